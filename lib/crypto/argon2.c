/*
 * Argon2 version 0x13 (RFC 9106 section 3). Memory is p lanes of q blocks
 * of 1024 bytes; each lane is cut into four slices, and a segment (one
 * slice of one lane) references only blocks that are complete when the
 * slice starts, plus earlier blocks of its own segment. So computing the
 * lanes of a slice one after another gives exactly the parallel result.
 *
 * Blocks live in the caller's work buffer as 128 native uint64_t words and
 * are converted to little-endian bytes only where they meet BLAKE2b (the
 * first two blocks of each lane and the final block), which on x86_64 costs
 * nothing. The compression function G works on 64-bit words in place, with
 * one 1 KiB temporary on the stack.
 */
#include "crypto/argon2.h"

#include "crypto/blake2b.h"
#include "string.h"

#define WORDS      (ARGON2_BLOCK_SIZE / 8) /* 64-bit words per block */
#define SLICES     4                       /* synchronization points per pass */
#define ADDR_WORDS WORDS                   /* (J1, J2) pairs per address block */

/* What every segment needs to know about the whole computation. */
struct instance {
    uint64_t *mem;   /* m' blocks, lane after lane */
    uint32_t passes; /* t */
    uint32_t lanes;  /* p */
    uint32_t blocks; /* m', m rounded down to a multiple of 4p */
    uint32_t lane_len;
    uint32_t seg_len;
    enum argon2_variant type;
};

static inline void store32_le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t load64_le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline void store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

bool argon2_hprime(void *out, size_t out_len, const void *in, size_t in_len)
{
    struct blake2b_state s;
    uint8_t len[4], v[BLAKE2B_OUT_MAX], w[BLAKE2B_OUT_MAX];
    uint8_t *o = out;

    if (out_len == 0 || out_len > ARGON2_LEN_MAX)
        return false;
    /* T <= 64: H^T(LE32(T) || A). Otherwise V1 = H^64(LE32(T) || A),
     * V(i+1) = H^64(V(i)), and the first half of each V is output until what
     * is left fits one last digest of 33..64 bytes. */
    store32_le(len, (uint32_t)out_len);
    blake2b_init(&s, out_len < BLAKE2B_OUT_MAX ? out_len : BLAKE2B_OUT_MAX);
    blake2b_update(&s, len, sizeof(len));
    blake2b_update(&s, in, in_len);
    if (out_len <= BLAKE2B_OUT_MAX) {
        blake2b_final(&s, o);
        return true;
    }
    blake2b_final(&s, v);
    memcpy(o, v, 32);
    o += 32;
    out_len -= 32;
    while (out_len > BLAKE2B_OUT_MAX) {
        blake2b(w, sizeof(w), v, sizeof(v));
        memcpy(v, w, sizeof(v));
        memcpy(o, v, 32);
        o += 32;
        out_len -= 32;
    }
    blake2b(o, out_len, v, sizeof(v));
    wipe(v, sizeof(v));
    wipe(w, sizeof(w));
    return true;
}

/* ---- The compression function G (RFC 9106 section 3.5 and 3.6) ---------- */

#define ROTR64(v, n) (((v) >> (n)) | ((v) << (64 - (n))))

/* BLAKE2b's G with each addition a + b replaced by the BlaMka
 * a + b + 2 * lo32(a) * lo32(b), which costs the attacker multiplier
 * latency as well as adder width. */
static inline uint64_t blamka(uint64_t x, uint64_t y)
{
    return x + y + 2 * (uint64_t)(uint32_t)x * (uint32_t)y;
}

#define GB(a, b, c, d)                                                                             \
    do {                                                                                           \
        a = blamka(a, b);                                                                          \
        d = ROTR64(d ^ a, 32);                                                                     \
        c = blamka(c, d);                                                                          \
        b = ROTR64(b ^ c, 24);                                                                     \
        a = blamka(a, b);                                                                          \
        d = ROTR64(d ^ a, 16);                                                                     \
        c = blamka(c, d);                                                                          \
        b = ROTR64(b ^ c, 63);                                                                     \
    } while (0)

/* The permutation P on sixteen words: pairs of words r[k * stride] and
 * r[k * stride + 1], k = 0..7, are the RFC's eight 16-byte registers. Rows
 * of the 8x8 register matrix have stride 2, columns stride 16; inlined with
 * a constant stride (GCC will not inline it on its own: sixteen copies are
 * big), all sixteen words stay in registers. */
static inline __attribute__((always_inline)) void permute(uint64_t *r, size_t stride)
{
    uint64_t v0 = r[0], v1 = r[1], v2 = r[stride], v3 = r[stride + 1];
    uint64_t v4 = r[2 * stride], v5 = r[2 * stride + 1];
    uint64_t v6 = r[3 * stride], v7 = r[3 * stride + 1];
    uint64_t v8 = r[4 * stride], v9 = r[4 * stride + 1];
    uint64_t v10 = r[5 * stride], v11 = r[5 * stride + 1];
    uint64_t v12 = r[6 * stride], v13 = r[6 * stride + 1];
    uint64_t v14 = r[7 * stride], v15 = r[7 * stride + 1];

    GB(v0, v4, v8, v12);
    GB(v1, v5, v9, v13);
    GB(v2, v6, v10, v14);
    GB(v3, v7, v11, v15);
    GB(v0, v5, v10, v15);
    GB(v1, v6, v11, v12);
    GB(v2, v7, v8, v13);
    GB(v3, v4, v9, v14);

    r[0] = v0, r[1] = v1, r[stride] = v2, r[stride + 1] = v3;
    r[2 * stride] = v4, r[2 * stride + 1] = v5;
    r[3 * stride] = v6, r[3 * stride + 1] = v7;
    r[4 * stride] = v8, r[4 * stride + 1] = v9;
    r[5 * stride] = v10, r[5 * stride + 1] = v11;
    r[6 * stride] = v12, r[6 * stride + 1] = v13;
    r[7 * stride] = v14, r[7 * stride + 1] = v15;
}

/* Z = P applied to the rows of R, then to the columns. */
static void permute_block(uint64_t r[WORDS])
{
    for (size_t i = 0; i < 8; i++)
        permute(r + 16 * i, 2);
    for (size_t i = 0; i < 8; i++)
        permute(r + 2 * i, 16);
}

/*
 * next = G(prev, ref), or next ^= G(prev, ref) in passes after the first
 * (version 0x13). G(X, Y) = P(R) ^ R with R = X ^ Y; R is folded into next
 * before it is permuted, so one temporary is enough. next is never prev or
 * ref (the reference area excludes the current block); prev may be ref.
 */
static __attribute__((noinline)) void fill_block(const uint64_t *prev, const uint64_t *ref,
                                                 uint64_t *restrict next, bool xor_old)
{
    uint64_t r[WORDS];

    for (size_t i = 0; i < WORDS; i++)
        r[i] = prev[i] ^ ref[i];
    if (xor_old) {
        for (size_t i = 0; i < WORDS; i++)
            next[i] ^= r[i];
    } else {
        for (size_t i = 0; i < WORDS; i++)
            next[i] = r[i];
    }
    permute_block(r);
    for (size_t i = 0; i < WORDS; i++)
        next[i] ^= r[i];
}

/*
 * The next 128 (J1, J2) pairs for data-independent addressing:
 * G(0, G(0, Z)), where Z is the seven words of in followed by zeros.
 * G(0, X) = P(X) ^ X, so the zero block never needs to exist.
 */
static void next_addresses(uint64_t addr[WORDS], const uint64_t in[7])
{
    uint64_t t[WORDS];

    memset(addr, 0, ARGON2_BLOCK_SIZE);
    for (size_t i = 0; i < 7; i++)
        addr[i] = in[i];
    permute_block(addr);
    for (size_t i = 0; i < 7; i++)
        addr[i] ^= in[i];
    memcpy(t, addr, sizeof(t));
    permute_block(t);
    for (size_t i = 0; i < WORDS; i++)
        addr[i] ^= t[i];
}

/* ---- Filling memory (RFC 9106 section 3.4) ----------------------------- */

static void fill_segment(const struct instance *in, uint32_t pass, uint32_t lane, uint32_t slice)
{
    uint64_t addr[WORDS];
    /* Z: pass, lane, slice, m', t, type, counter (incremented before use). */
    uint64_t z[7] = {pass, lane, slice, in->blocks, in->passes, (uint64_t)in->type, 0};
    bool indep = in->type == ARGON2_I || (in->type == ARGON2_ID && pass == 0 && slice < SLICES / 2);
    bool first = pass == 0 && slice == 0;
    /* The first two blocks of each lane come from H0, not from G. */
    uint32_t start = first ? 2 : 0;
    uint64_t *lane_mem = in->mem + (size_t)lane * in->lane_len * WORDS;
    /* Blocks in the reference area other than this segment's own: every
     * finished slice in the first pass, the three other slices later. */
    uint32_t area_base = pass == 0 ? slice * in->seg_len : in->lane_len - in->seg_len;
    /* Where the area starts: the slice after this one, or 0 in pass 0. */
    uint64_t area_start = (pass == 0 || slice == SLICES - 1) ? 0 : (slice + 1) * in->seg_len;

    if (indep && start != 0) {
        z[6]++;
        next_addresses(addr, z);
    }
    for (uint32_t i = start; i < in->seg_len; i++) {
        uint32_t idx = slice * in->seg_len + i;
        uint32_t prev = idx == 0 ? in->lane_len - 1 : idx - 1;
        uint64_t rnd;

        if (indep) {
            if (i % ADDR_WORDS == 0) {
                z[6]++;
                next_addresses(addr, z);
            }
            rnd = addr[i % ADDR_WORDS];
        } else {
            rnd = lane_mem[(size_t)prev * WORDS];
        }

        /* J2 picks the lane; no other lane is readable in the first slice. */
        uint32_t ref_lane = first ? lane : (uint32_t)((rnd >> 32) % in->lanes);
        /* In this lane the area also holds the segment's own earlier blocks
         * but never the previous one (it is G's other input); in another lane,
         * the area loses its last block when i is the segment's first. */
        uint32_t area = area_base;
        if (ref_lane == lane)
            area = area_base + i - 1; /* area_base + i >= 2: no wrap */
        else if (i == 0)
            area = area_base - 1;

        /* J1 maps non-uniformly onto the area, favouring recent blocks. */
        uint64_t x = rnd & 0xffffffffull;
        x = (x * x) >> 32;
        uint64_t rel = area - 1 - (((uint64_t)area * x) >> 32);
        uint32_t ref_idx = (uint32_t)((area_start + rel) % in->lane_len);

        const uint64_t *ref = in->mem + ((size_t)ref_lane * in->lane_len + ref_idx) * WORDS;
        fill_block(lane_mem + (size_t)prev * WORDS, ref, lane_mem + (size_t)idx * WORDS, pass != 0);
    }
}

/* ---- Parameters and the whole computation ------------------------------ */

size_t argon2_work_size(uint32_t m_cost, uint32_t lanes)
{
    if (lanes == 0 || lanes > ARGON2_LANES_MAX || m_cost < 8 * lanes)
        return 0;
    return (size_t)(m_cost / (4 * lanes) * (4 * lanes)) * ARGON2_BLOCK_SIZE;
}

static enum argon2_status check(enum argon2_variant type, const struct argon2_params *p,
                                const void *tag, size_t tag_len, const void *work, size_t work_size)
{
    if (type != ARGON2_D && type != ARGON2_I && type != ARGON2_ID)
        return ARGON2_E_VARIANT;
    if (!p || !tag || (!p->pwd && p->pwd_len) || (!p->salt && p->salt_len) ||
        (!p->secret && p->secret_len) || (!p->ad && p->ad_len))
        return ARGON2_E_NULL;
    if (p->pwd_len > ARGON2_LEN_MAX)
        return ARGON2_E_PWD_TOO_LONG;
    if (p->salt_len < ARGON2_SALT_MIN)
        return ARGON2_E_SALT_TOO_SHORT;
    if (p->salt_len > ARGON2_LEN_MAX)
        return ARGON2_E_SALT_TOO_LONG;
    if (p->secret_len > ARGON2_LEN_MAX)
        return ARGON2_E_SECRET_TOO_LONG;
    if (p->ad_len > ARGON2_LEN_MAX)
        return ARGON2_E_AD_TOO_LONG;
    if (tag_len < ARGON2_TAG_MIN)
        return ARGON2_E_TAG_TOO_SHORT;
    if (tag_len > ARGON2_LEN_MAX)
        return ARGON2_E_TAG_TOO_LONG;
    if (p->t_cost == 0)
        return ARGON2_E_T_COST_ZERO;
    if (p->lanes == 0 || p->lanes > ARGON2_LANES_MAX)
        return ARGON2_E_LANES;
    if (p->m_cost < 8 * p->lanes)
        return ARGON2_E_M_COST;
    if (!work)
        return ARGON2_E_WORK_NULL;
    if ((uintptr_t)work % sizeof(uint64_t) != 0)
        return ARGON2_E_WORK_ALIGN;
    if (work_size < argon2_work_size(p->m_cost, p->lanes))
        return ARGON2_E_WORK_TOO_SMALL;
    return ARGON2_SUCCESS;
}

static void absorb_len(struct blake2b_state *s, size_t len)
{
    uint8_t b[4];
    store32_le(b, (uint32_t)len);
    blake2b_update(s, b, sizeof(b));
}

/* H0 (section 3.2): BLAKE2b-512 of every parameter and input, each byte
 * string preceded by its length, so no two inputs share an encoding. */
static void prehash(uint8_t h0[BLAKE2B_OUT_MAX], enum argon2_variant type,
                    const struct argon2_params *p, size_t tag_len)
{
    struct blake2b_state s;

    blake2b_init(&s, BLAKE2B_OUT_MAX);
    absorb_len(&s, p->lanes);
    absorb_len(&s, tag_len);
    absorb_len(&s, p->m_cost);
    absorb_len(&s, p->t_cost);
    absorb_len(&s, ARGON2_VERSION);
    absorb_len(&s, (size_t)type);
    absorb_len(&s, p->pwd_len);
    blake2b_update(&s, p->pwd, p->pwd_len);
    absorb_len(&s, p->salt_len);
    blake2b_update(&s, p->salt, p->salt_len);
    absorb_len(&s, p->secret_len);
    blake2b_update(&s, p->secret, p->secret_len);
    absorb_len(&s, p->ad_len);
    blake2b_update(&s, p->ad, p->ad_len);
    blake2b_final(&s, h0);
}

/* Block bytes (as H' writes them) to native words, and back, in place. */
static void block_from_bytes(uint64_t *b)
{
    for (size_t i = 0; i < WORDS; i++)
        b[i] = load64_le((const uint8_t *)&b[i]);
}

static void block_to_bytes(uint64_t *b)
{
    for (size_t i = 0; i < WORDS; i++)
        store64_le((uint8_t *)&b[i], b[i]);
}

enum argon2_status argon2_compute(enum argon2_variant type, const struct argon2_params *p,
                                  void *tag, size_t tag_len, void *work, size_t work_size)
{
    enum argon2_status st = check(type, p, tag, tag_len, work, work_size);
    if (st != ARGON2_SUCCESS)
        return st;

    struct instance in = {
        .mem = work,
        .passes = p->t_cost,
        .lanes = p->lanes,
        .blocks = (uint32_t)(argon2_work_size(p->m_cost, p->lanes) / ARGON2_BLOCK_SIZE),
        .type = type,
    };
    in.lane_len = in.blocks / in.lanes;
    in.seg_len = in.lane_len / SLICES;

    /* H0 || LE32(column) || LE32(lane) seeds the first two blocks of each
     * lane through H'. */
    uint8_t seed[BLAKE2B_OUT_MAX + 8];
    prehash(seed, type, p, tag_len);
    for (uint32_t l = 0; l < in.lanes; l++) {
        for (uint32_t j = 0; j < 2; j++) {
            uint64_t *b = in.mem + ((size_t)l * in.lane_len + j) * WORDS;
            store32_le(seed + BLAKE2B_OUT_MAX, j);
            store32_le(seed + BLAKE2B_OUT_MAX + 4, l);
            argon2_hprime(b, ARGON2_BLOCK_SIZE, seed, sizeof(seed));
            block_from_bytes(b);
        }
    }
    wipe(seed, sizeof(seed));

    for (uint32_t pass = 0; pass < in.passes; pass++)
        for (uint32_t slice = 0; slice < SLICES; slice++)
            for (uint32_t l = 0; l < in.lanes; l++)
                fill_segment(&in, pass, l, slice);

    /* C = XOR of the last column; accumulated into lane 0's last block,
     * since the memory is scratch from here on. */
    uint64_t *c = in.mem + (size_t)(in.lane_len - 1) * WORDS;
    for (uint32_t l = 1; l < in.lanes; l++) {
        const uint64_t *b = in.mem + ((size_t)l * in.lane_len + in.lane_len - 1) * WORDS;
        for (size_t i = 0; i < WORDS; i++)
            c[i] ^= b[i];
    }
    block_to_bytes(c);
    argon2_hprime(tag, tag_len, c, ARGON2_BLOCK_SIZE);

    /* The memory holds values derived from the password: a dump of it would
     * let an attacker test guesses without paying the memory cost. */
    memset(work, 0, (size_t)in.blocks * ARGON2_BLOCK_SIZE);
    return ARGON2_SUCCESS;
}

enum argon2_status argon2id_hash(const struct argon2_params *p, void *tag, size_t tag_len,
                                 void *work, size_t work_size)
{
    return argon2_compute(ARGON2_ID, p, tag, tag_len, work, work_size);
}

const char *argon2_status_name(enum argon2_status s)
{
    static const char *const names[ARGON2_STATUS_COUNT] = {
        [ARGON2_SUCCESS] = "ARGON2_SUCCESS",
        [ARGON2_E_VARIANT] = "ARGON2_E_VARIANT",
        [ARGON2_E_NULL] = "ARGON2_E_NULL",
        [ARGON2_E_PWD_TOO_LONG] = "ARGON2_E_PWD_TOO_LONG",
        [ARGON2_E_SALT_TOO_SHORT] = "ARGON2_E_SALT_TOO_SHORT",
        [ARGON2_E_SALT_TOO_LONG] = "ARGON2_E_SALT_TOO_LONG",
        [ARGON2_E_SECRET_TOO_LONG] = "ARGON2_E_SECRET_TOO_LONG",
        [ARGON2_E_AD_TOO_LONG] = "ARGON2_E_AD_TOO_LONG",
        [ARGON2_E_TAG_TOO_SHORT] = "ARGON2_E_TAG_TOO_SHORT",
        [ARGON2_E_TAG_TOO_LONG] = "ARGON2_E_TAG_TOO_LONG",
        [ARGON2_E_T_COST_ZERO] = "ARGON2_E_T_COST_ZERO",
        [ARGON2_E_LANES] = "ARGON2_E_LANES",
        [ARGON2_E_M_COST] = "ARGON2_E_M_COST",
        [ARGON2_E_WORK_NULL] = "ARGON2_E_WORK_NULL",
        [ARGON2_E_WORK_ALIGN] = "ARGON2_E_WORK_ALIGN",
        [ARGON2_E_WORK_TOO_SMALL] = "ARGON2_E_WORK_TOO_SMALL",
    };
    if ((unsigned)s >= ARGON2_STATUS_COUNT)
        return "ARGON2_E_UNKNOWN";
    return names[s];
}
