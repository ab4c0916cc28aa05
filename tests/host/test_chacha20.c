/*
 * Host tests for ChaCha20 (lib/crypto/chacha20.c) against the RFC 8439 test
 * vectors, and for the CSPRNG built on it (lib/crypto/csprng.c): determinism, fast
 * key erasure checked against a model of the construction, chunking of large
 * fills, reseeding, and a coarse statistical sanity check.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/chacha20.h"
#include "crypto/csprng.h"

/* Parse a hex string (whitespace ignored) into out; returns the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            cr_assert_lt(n, cap, "hex string too long");
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    cr_assert_eq(hi, -1, "odd number of hex digits");
    return n;
}

static void expect_bytes(const uint8_t *got, const char *hex, size_t len)
{
    uint8_t want[512];
    cr_assert_eq(unhex(hex, want, sizeof(want)), len, "vector length");
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(got[i], want[i], "byte %zu: got %02x, want %02x", i, got[i], want[i]);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const uint8_t key_seq[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* ---- RFC 8439 section 2 ---- */

Test(chacha20, quarter_round_2_1_1)
{
    uint32_t a = 0x11111111, b = 0x01020304, c = 0x9b8d6f43, d = 0x01234567;
    chacha20_quarter_round(&a, &b, &c, &d);
    cr_assert_eq(a, 0xea2a92f4);
    cr_assert_eq(b, 0xcb1cf8ce);
    cr_assert_eq(c, 0x4581472e);
    cr_assert_eq(d, 0x5881c4bb);
}

Test(chacha20, quarter_round_on_state_2_2_1)
{
    uint32_t s[16] = {0x879531e0, 0xc5ecf37d, 0x516461b1, 0xc9a62f8a, 0x44c20ef3, 0x3390af7f,
                      0xd9fc690b, 0x2a5f714c, 0x53372767, 0xb00a5631, 0x974c541a, 0x359e9963,
                      0x5c971061, 0x3d631689, 0x2098d9d6, 0x91dbd320};
    const uint32_t want[16] = {0x879531e0, 0xc5ecf37d, 0xbdb886dc, 0xc9a62f8a,
                               0x44c20ef3, 0x3390af7f, 0xd9fc690b, 0xcfacafd2,
                               0xe46bea80, 0xb00a5631, 0x974c541a, 0x359e9963,
                               0x5c971061, 0xccc07c79, 0x2098d9d6, 0x91dbd320};
    chacha20_quarter_round(&s[2], &s[7], &s[8], &s[13]);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(s[i], want[i], "word %d: %08x", i, s[i]);
}

Test(chacha20, block_2_3_2)
{
    const uint8_t nonce[12] = {0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0};
    const uint32_t state[16] = {0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3,
                                0xc7f4d1c7, 0x0368c033, 0x9aaa2204, 0x4e6cd4c3,
                                0x466482d2, 0x09aa9f07, 0x05d7c214, 0xa2028bd9,
                                0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2};
    uint8_t out[64];
    chacha20_block(key_seq, 1, nonce, out);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(le32(out + 4 * i), state[i], "word %d", i);
    expect_bytes(out,
                 "10f1e7e4d13b5915500fdd1fa32071c4 c7d1f4c733c068030422aa9ac3d46c4e"
                 "d2826446079faa0914c2d705d98b02a2 b5129cd1de164eb9cbd083e8a2503c4e",
                 64);
}

static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                                "only one tip for the future, sunscreen would be it.";

static const char sunscreen_ct[] =
    "6e2e359a2568f98041ba0728dd0d6981 e97e7aec1d4360c20a27afccfd9fae0b"
    "f91b65c5524733ab8f593dabcd62b357 1639d624e65152ab8f530c359f0861d8"
    "07ca0dbf500d6a6156a38e088a22b65e 52bc514d16ccf806818ce91ab7793736"
    "5af90bbf74a35be6b40b8eedf2785e42 874d";

Test(chacha20, encrypt_2_4_2)
{
    const uint8_t nonce[12] = {0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0};
    size_t len = strlen(sunscreen);
    cr_assert_eq(len, 114);
    uint8_t out[114];
    cr_assert(chacha20_xor(key_seq, 1, nonce, out, (const uint8_t *)sunscreen, len));
    expect_bytes(out, sunscreen_ct, len);

    /* Decryption is the same operation, here in place. */
    cr_assert(chacha20_xor(key_seq, 1, nonce, out, out, len));
    cr_assert_eq(memcmp(out, sunscreen, len), 0);
}

Test(chacha20, poly1305_key_gen_2_6_2)
{
    uint8_t key[32], out[64];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(0x80 + i);
    const uint8_t nonce[12] = {0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7};
    chacha20_block(key, 0, nonce, out);
    expect_bytes(out, "8ad5a08b905f81cc815040274ab29471 a833b637e3fd0da508dbb8e2fdd1a646", 32);
}

/* ---- RFC 8439 appendix A.1: block function ---- */

struct block_vector {
    uint8_t key_byte_at, key_byte;     /* all-zero key except key[at] = byte */
    uint8_t nonce_byte_at, nonce_byte; /* likewise for the nonce */
    uint32_t counter;
    const char *keystream;
};

static const struct block_vector a1[] = {
    {0, 0, 0, 0, 0,
     "76b8e0ada0f13d90405d6ae55386bd28 bdd219b8a08ded1aa836efcc8b770dc7"
     "da41597c5157488d7724e03fb8d84a37 6a43b8f41518a11cc387b669b2ee6586"},
    {0, 0, 0, 0, 1,
     "9f07e7be5551387a98ba977c732d080d cb0f29a048e3656912c6533e32ee7aed"
     "29b721769ce64e43d57133b074d839d5 31ed1f28510afb45ace10a1f4b794d6f"},
    {31, 1, 0, 0, 1,
     "3aeb5224ecf849929b9d828db1ced4dd 832025e8018b8160b82284f3c949aa5a"
     "8eca00bbb4a73bdad192b5c42f73f2fd 4e273644c8b36125a64addeb006c13a0"},
    {1, 0xff, 0, 0, 2,
     "72d54dfbf12ec44b362692df94137f32 8fea8da73990265ec1bbbea1ae9af0ca"
     "13b25aa26cb4a648cb9b9d1be65b2c09 24a66c54d545ec1b7374f4872e99f096"},
    {0, 0, 11, 2, 0,
     "c2c64d378cd536374ae204b9ef933fcd 1a8b2288b3dfa49672ab765b54ee27c7"
     "8a970e0e955c14f3a88e741b97c286f7 5f8fc299e8148362fa198a39531bed6d"},
};

Test(chacha20, appendix_a1_blocks)
{
    for (size_t v = 0; v < sizeof(a1) / sizeof(a1[0]); v++) {
        uint8_t key[32] = {0}, nonce[12] = {0}, out[64], via_stream[64];
        key[a1[v].key_byte_at] = a1[v].key_byte;
        nonce[a1[v].nonce_byte_at] = a1[v].nonce_byte;
        chacha20_block(key, a1[v].counter, nonce, out);
        expect_bytes(out, a1[v].keystream, 64);
        cr_assert(chacha20_stream(key, a1[v].counter, nonce, via_stream, 64));
        cr_assert_eq(memcmp(out, via_stream, 64), 0, "vector #%zu via stream", v + 1);
    }
}

/* ---- RFC 8439 appendix A.2: encryption ---- */

Test(chacha20, appendix_a2_1)
{
    uint8_t key[32] = {0}, nonce[12] = {0}, pt[64] = {0}, ct[64];
    cr_assert(chacha20_xor(key, 0, nonce, ct, pt, sizeof(pt)));
    expect_bytes(ct, a1[0].keystream, 64);
}

static const char ietf[] =
    "Any submission to the IETF intended by the Contributor for publication as all or part of an "
    "IETF Internet-Draft or RFC and any statement made within the context of an IETF activity is "
    "considered an \"IETF Contribution\". Such statements include oral statements in IETF "
    "sessions, as well as written and electronic communications made at any time or place, which "
    "are addressed to";

static const char ietf_ct[] = "a3fbf07df3fa2fde4f376ca23e827370 41605d9f4f4f57bd8cff2c1d4b7955ec"
                              "2a97948bd3722915c8f3d337f7d37005 0e9e96d647b7c39f56e031ca5eb6250d"
                              "4042e02785ececfa4b4bb5e8ead0440e 20b6e8db09d881a7c6132f420e527950"
                              "42bdfa7773d8a9051447b3291ce1411c 680465552aa6c405b7764d5e87bea85a"
                              "d00f8449ed8f72d0d662ab052691ca66 424bc86d2df80ea41f43abf937d3259d"
                              "c4b2d0dfb48a6c9139ddd7f76966e928 e635553ba76c5c879d7b35d49eb2e62b"
                              "0871cdac638939e25e8a1e0ef9d5280f a8ca328b351c3c765989cbcf3daa8b6c"
                              "cc3aaf9f3979c92b3720fc88dc95ed84 a1be059c6499b9fda236e7e818b04b0b"
                              "c39c1e876b193bfe5569753f88128cc0 8aaa9b63d1a16f80ef2554d7189c411f"
                              "5869ca52c5b83fa36ff216b9c1d30062 bebcfd2dc5bce0911934fda79a86f6e6"
                              "98ced759c3ff9b6477338f3da4f9cd85 14ea9982ccafb341b2384dd902f3d1ab"
                              "7ac61dd29c6f21ba5b862f3730e37cfd c4fd806c22f221";

Test(chacha20, appendix_a2_2)
{
    uint8_t key[32] = {0}, nonce[12] = {0}, ct[375];
    key[31] = 1;
    nonce[11] = 2;
    size_t len = strlen(ietf);
    cr_assert_eq(len, 375);
    cr_assert(chacha20_xor(key, 1, nonce, ct, (const uint8_t *)ietf, len));
    expect_bytes(ct, ietf_ct, len);
}

static const char jabberwocky[] = "'Twas brillig, and the slithy toves\nDid gyre and gimble in the "
                                  "wabe:\nAll mimsy were the borogoves,\nAnd the mome raths "
                                  "outgrabe.";

Test(chacha20, appendix_a2_3)
{
    uint8_t key[32], nonce[12] = {0}, ct[127];
    unhex("1c9240a5eb55d38af333888604f6b5f0 473917c1402b80099dca5cbc207075c0", key, 32);
    nonce[11] = 2;
    size_t len = strlen(jabberwocky);
    cr_assert_eq(len, 127);
    cr_assert(chacha20_xor(key, 42, nonce, ct, (const uint8_t *)jabberwocky, len));
    expect_bytes(ct,
                 "62e6347f95ed87a45ffae7426f27a1df 5fb69110044c0d73118effa95b01e5cf"
                 "166d3df2d721caf9b21e5fb14c616871 fd84c54f9d65b283196c7fe4f60553eb"
                 "f39c6402c42234e32a356b3e764312a6 1a5532055716ead6962568f87d3f3f77"
                 "04c6a8d1bcd1bf4d50d6154b6da731b1 87b58dfd728afa36757a797ac188d1",
                 len);
}

/* ---- stream mechanics ---- */

Test(chacha20, stream_is_concatenated_blocks)
{
    const uint8_t nonce[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t stream[64 * 5], block[64];
    /* Every length 0..320 is a prefix of the same keystream. */
    for (size_t len = 0; len <= sizeof(stream); len++) {
        memset(stream, 0xa5, sizeof(stream));
        cr_assert(chacha20_stream(key_seq, 7, nonce, stream, len));
        for (size_t i = 0; i < len; i++) {
            if (i % 64 == 0)
                chacha20_block(key_seq, 7 + (uint32_t)(i / 64), nonce, block);
            cr_assert_eq(stream[i], block[i % 64], "len %zu byte %zu", len, i);
        }
        for (size_t i = len; i < sizeof(stream); i++)
            cr_assert_eq(stream[i], 0xa5, "wrote past len %zu", len);
    }
}

Test(chacha20, counter_limit)
{
    const uint8_t nonce[12] = {0};
    uint8_t buf[129], block[64];
    memset(buf, 0x5a, sizeof(buf));

    /* The last block may use counter 0xffffffff ... */
    cr_assert(chacha20_stream(key_seq, 0xffffffff, nonce, buf, 64));
    chacha20_block(key_seq, 0xffffffff, nonce, block);
    cr_assert_eq(memcmp(buf, block, 64), 0);
    cr_assert(chacha20_stream(key_seq, 0xfffffffe, nonce, buf, 128));

    /* ... but nothing may wrap around to block 0, and a refusal writes
     * nothing. */
    memset(buf, 0x5a, sizeof(buf));
    cr_assert_not(chacha20_stream(key_seq, 0xffffffff, nonce, buf, 65));
    cr_assert_not(chacha20_xor(key_seq, 0xfffffffe, nonce, buf, buf, 129));
    for (size_t i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], 0x5a);

    cr_assert(chacha20_stream(key_seq, 0xffffffff, nonce, buf, 0));
}

Test(chacha20, wipe)
{
    uint8_t buf[37];
    memset(buf, 0xff, sizeof(buf));
    crypto_wipe(buf + 1, 35);
    cr_assert_eq(buf[0], 0xff);
    cr_assert_eq(buf[36], 0xff);
    for (int i = 1; i < 36; i++)
        cr_assert_eq(buf[i], 0);
}

/* ---- CSPRNG ---- */

/* The construction as csprng.c documents it: the output nonce, and one
 * request of at most 64 KiB under one key. */
static const uint8_t out_nonce[12] = {'o', 'u', 't', 'p', 0, 0, 0, 0, 0, 0, 0, 0};

static void model_fill(uint8_t key[32], uint8_t *out, size_t len)
{
    do {
        size_t n = len < 65536 ? len : 65536;
        uint8_t *ks = malloc(n + 32);
        cr_assert(chacha20_stream(key, 0, out_nonce, ks, n + 32));
        memcpy(key, ks, 32);
        memcpy(out, ks + 32, n);
        free(ks);
        out += n;
        len -= n;
    } while (len > 0);
}

static void seeded(struct csprng *rng, const char *seed)
{
    memset(rng, 0xcc, sizeof(*rng));
    csprng_seed(rng, seed, strlen(seed));
}

Test(csprng, unseeded_refuses)
{
    struct csprng rng = {0};
    uint8_t buf[40];
    memset(buf, 0x77, sizeof(buf));
    cr_assert_not(csprng_fill(&rng, buf, sizeof(buf)));
    for (size_t i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], 0, "unseeded fill must not leave or produce data");
}

Test(csprng, same_seed_same_stream)
{
    struct csprng a, b;
    seeded(&a, "rdseed+jitter");
    seeded(&b, "rdseed+jitter");
    cr_assert_eq(memcmp(a.key, b.key, 32), 0);
    for (size_t len = 0; len < 300; len += 37) {
        uint8_t x[300], y[300];
        cr_assert(csprng_fill(&a, x, len));
        cr_assert(csprng_fill(&b, y, len));
        cr_assert_eq(memcmp(x, y, len), 0, "len %zu", len);
    }

    /* Seeding discards everything before it. */
    uint8_t x[64], y[64];
    csprng_seed(&a, "rdseed+jitter", 13);
    seeded(&b, "rdseed+jitter");
    csprng_fill(&a, x, sizeof(x));
    csprng_fill(&b, y, sizeof(y));
    cr_assert_eq(memcmp(x, y, sizeof(x)), 0);
}

Test(csprng, different_seeds_different_streams)
{
    /* Includes seeds that differ only by zero padding, and seeds longer than
     * one 32-byte chunk that differ only in the last chunk. */
    static const uint8_t seeds[][70] = {
        {0}, {1}, {0, 0}, {'a', 'b'}, {'a', 'b', 0}, {[0] = 1, [33] = 0}, {[0] = 1, [33] = 1},
    };
    static const size_t lens[] = {0, 1, 2, 2, 3, 40, 40};
    static const size_t nseeds = sizeof(lens) / sizeof(lens[0]);
    uint8_t out[7][64];

    for (size_t i = 0; i < nseeds; i++) {
        struct csprng rng;
        csprng_seed(&rng, seeds[i], lens[i]);
        cr_assert(csprng_fill(&rng, out[i], 64));
    }
    for (size_t i = 0; i < nseeds; i++)
        for (size_t j = i + 1; j < nseeds; j++)
            cr_assert_neq(memcmp(out[i], out[j], 64), 0, "seeds %zu and %zu collide", i, j);
}

Test(csprng, fast_key_erasure)
{
    struct csprng rng;
    seeded(&rng, "fast key erasure");
    uint8_t model_key[32], prev[32];
    memcpy(model_key, rng.key, 32);

    static const size_t sizes[] = {0, 1, 31, 32, 33, 63, 64, 65, 95, 96, 97, 1000, 4096, 65535};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t len = sizes[s];
        uint8_t *got = malloc(len + 1), *want = malloc(len + 1);
        memcpy(prev, rng.key, 32);
        cr_assert(csprng_fill(&rng, got, len));
        model_fill(model_key, want, len);

        /* The key changed, to exactly what the construction says. */
        cr_assert_neq(memcmp(rng.key, prev, 32), 0, "key kept after a %zu-byte fill", len);
        cr_assert_eq(memcmp(rng.key, model_key, 32), 0, "key after a %zu-byte fill", len);
        cr_assert_eq(memcmp(got, want, len), 0, "output of a %zu-byte fill", len);

        /* No output window is the new key or the old one. */
        for (size_t i = 0; i + 32 <= len; i++) {
            cr_assert_neq(memcmp(got + i, rng.key, 32), 0);
            cr_assert_neq(memcmp(got + i, prev, 32), 0);
        }
        free(got);
        free(want);
    }
}

Test(csprng, consecutive_fills_never_overlap)
{
    /* Two fills are two different keys' keystreams, so the second fill is
     * neither a repeat of the first nor its continuation. */
    struct csprng a, b;
    seeded(&a, "overlap");
    seeded(&b, "overlap");
    uint8_t x[128], y[256];
    csprng_fill(&a, x, 128);
    csprng_fill(&a, x + 0, 0); /* an empty fill still ratchets */
    csprng_fill(&b, y, 256);
    cr_assert_eq(memcmp(x, y, 128), 0);
    uint8_t z[128];
    csprng_fill(&a, z, 128);
    cr_assert_neq(memcmp(z, x, 128), 0);
    cr_assert_neq(memcmp(z, y + 128, 128), 0);
}

Test(csprng, large_and_odd_fills)
{
    /* Crosses the 64 KiB chunk boundary several times, ending mid-block. */
    size_t len = 3 * 65536 + 1000 + 3;
    uint8_t *got = malloc(len), *want = malloc(len);
    struct csprng rng;
    seeded(&rng, "large");
    uint8_t model_key[32];
    memcpy(model_key, rng.key, 32);
    memset(got, 0, len);
    cr_assert(csprng_fill(&rng, got, len));
    model_fill(model_key, want, len);
    cr_assert_eq(memcmp(got, want, len), 0);
    cr_assert_eq(memcmp(rng.key, model_key, 32), 0);

    /* Chunk boundaries are real rekeys: the stream does not simply continue
     * under the first key. */
    uint8_t first_key_stream[64];
    seeded(&rng, "large");
    cr_assert(chacha20_stream(rng.key, 1024, out_nonce, first_key_stream, 64));
    cr_assert_neq(memcmp(got + 65536, first_key_stream + 32, 32), 0);

    /* Unaligned destinations and every small size. */
    seeded(&rng, "odd");
    memcpy(model_key, rng.key, 32);
    for (size_t n = 1; n < 200; n += 3) {
        uint8_t buf[256], ref[256];
        memset(buf, 0xee, sizeof(buf));
        cr_assert(csprng_fill(&rng, buf + 1, n));
        model_fill(model_key, ref, n);
        cr_assert_eq(memcmp(buf + 1, ref, n), 0, "size %zu", n);
        cr_assert_eq(buf[0], 0xee);
        cr_assert_eq(buf[n + 1], 0xee, "wrote past %zu bytes", n);
    }
    free(got);
    free(want);
}

Test(csprng, bit_balance_over_1mib)
{
    size_t len = 1u << 20;
    uint8_t *buf = malloc(len);
    struct csprng rng;
    seeded(&rng, "statistics");
    cr_assert(csprng_fill(&rng, buf, len));

    /* 2^23 fair bits: ones ~ N(2^22, 1448^2). Allow 10 sigma, and per byte
     * value 4096 +- 10 * 64. A broken generator (stuck bytes, a repeating
     * short cycle, zeros) is far outside either bound. */
    uint64_t ones = 0;
    uint32_t hist[256] = {0};
    for (size_t i = 0; i < len; i++) {
        ones += (uint64_t)__builtin_popcount(buf[i]);
        hist[buf[i]]++;
    }
    int64_t dev = (int64_t)ones - (int64_t)(len * 4);
    cr_assert_lt(dev < 0 ? -dev : dev, 14500, "ones = %lu", (unsigned long)ones);
    for (int v = 0; v < 256; v++)
        cr_assert(hist[v] > 4096 - 640 && hist[v] < 4096 + 640, "byte %02x seen %u times", v,
                  hist[v]);

    /* And the stream does not repeat at a short period. */
    for (size_t period = 32; period <= 4096; period *= 2)
        cr_assert_neq(memcmp(buf, buf + period, 64), 0, "period %zu", period);
    free(buf);
}

Test(csprng, reseed_changes_stream)
{
    struct csprng a, b;
    seeded(&a, "base");
    seeded(&b, "base");
    uint8_t x[64], y[64];

    csprng_reseed(&a, "more", 4);
    cr_assert_neq(memcmp(a.key, b.key, 32), 0);
    csprng_fill(&a, x, 64);
    csprng_fill(&b, y, 64);
    cr_assert_neq(memcmp(x, y, 64), 0);

    /* Even an empty reseed moves the key; the same reseed on equal states
     * keeps them equal (it is deterministic too). */
    seeded(&a, "base");
    seeded(&b, "base");
    csprng_reseed(&a, NULL, 0);
    cr_assert_neq(memcmp(a.key, b.key, 32), 0);
    csprng_reseed(&b, NULL, 0);
    cr_assert_eq(memcmp(a.key, b.key, 32), 0);

    /* Reseeding mixes into the old key rather than replacing it: the same
     * material on different states gives different keys, and reseeding is
     * not the same as seeding. */
    struct csprng c, d;
    seeded(&c, "one");
    seeded(&d, "two");
    csprng_reseed(&c, "same", 4);
    csprng_reseed(&d, "same", 4);
    cr_assert_neq(memcmp(c.key, d.key, 32), 0);
    seeded(&c, "same");
    seeded(&d, "one");
    csprng_reseed(&d, "same", 4);
    cr_assert_neq(memcmp(c.key, d.key, 32), 0);

    /* A zeroed, never-seeded state reseeds exactly like a seed. */
    struct csprng e = {0};
    csprng_reseed(&e, "same", 4);
    cr_assert(e.seeded);
    cr_assert_eq(memcmp(e.key, c.key, 32), 0);
}

Test(csprng, seed_absorption_model)
{
    /* The documented compression, computed independently: for each 32-byte
     * chunk, K = ChaCha20(K xor m, 0, ("seed", i, len))[0..32) xor K. */
    uint8_t seed[70];
    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (uint8_t)(i * 7 + 3);
    uint8_t k[32] = {0};
    size_t len = sizeof(seed);
    for (uint32_t chunk = 0; chunk * 32 < len; chunk++) {
        uint8_t in[32] = {0}, block[64];
        uint8_t nonce[12] = {'s', 'e', 'e', 'd', (uint8_t)chunk, 0, 0, 0, (uint8_t)len, 0, 0, 0};
        for (size_t i = 0; i < 32 && chunk * 32 + i < len; i++)
            in[i] = seed[chunk * 32 + i];
        for (int i = 0; i < 32; i++)
            in[i] ^= k[i];
        chacha20_block(in, 0, nonce, block);
        for (int i = 0; i < 32; i++)
            k[i] ^= block[i];
    }
    struct csprng rng;
    csprng_seed(&rng, seed, len);
    cr_assert_eq(memcmp(rng.key, k, 32), 0);
}
