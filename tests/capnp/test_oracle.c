/*
 * The official Cap'n Proto implementation as the oracle.
 *
 * 1. Messages encoded by `capnp encode` (the committed seeds, made by
 *    gen_seeds.sh from tests/capnp/test.capnp) read back with the values of
 *    their text literals, in one segment, in many (far pointers), packed.
 * 2. The same content built by our builder, framed and packed, is accepted
 *    by `capnp convert` and canonicalizes to the same bytes as the
 *    official encoding (skipped if the capnp tool is missing).
 *
 * Offsets are from `capnp compile -ocapnp tests/capnp/test.capnp`.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <unistd.h>

#include "testutil.h"

#define SEEDS "tests/fuzz/corpus/capnp_reader/"

/* struct All: 8 data words, 18 pointers. */
enum { ALL_DW = 8, ALL_NP = 18 };
enum {
    P_TEXT,
    P_DATA,
    P_INNER,
    P_BOOLS,
    P_BYTES,
    P_SHORTS,
    P_INTS,
    P_LONGS,
    P_TEXTS,
    P_INNERS,
    P_VOIDS,
    P_NESTED,
    P_STR,
    P_DEFTEXT,
    P_ANY,
    P_SELF,
    P_DEFINNER,
    P_DEFINTS
};
#define DEF_I32 1234

/* Defaults of defInner = (a = 7, s = "seven") and defInts = [1, 2, 3], as
 * a code generator would emit them. */
static const uint64_t def_inner_w[] = {0x0001000100000000ull, 7, 0x0000003200000001ull,
                                       0x0000006e65766573ull};
static const struct capn_seg def_inner = {(const uint8_t *)def_inner_w, 4, 4};
static const uint64_t def_ints_w[] = {0x0000001c00000001ull, 0x0000000200000001ull, 3};
static const struct capn_seg def_ints = {(const uint8_t *)def_ints_w, 3, 3};

static void text_is(struct capn_ptr p, const char *want)
{
    struct capn_text t = capn_ptr_text(p, NULL, 0);
    cr_assert_eq(t.len, strlen(want));
    cr_assert_str_eq(t.str, want);
}

static void check_full(struct capn_msg *m)
{
    struct capn_struct s = root_struct(m);
    cr_assert_eq(s.data_bytes, ALL_DW * 8);
    cr_assert_eq(s.nptrs, ALL_NP);
    cr_assert(capn_struct_bool(&s, 0, false));
    cr_assert_eq(capn_struct_i8(&s, 1, 0), -12);
    cr_assert_eq(capn_struct_i16(&s, 2, 0), -1234);
    cr_assert_eq(capn_struct_i32(&s, 4, 0), -123456);
    cr_assert_eq(capn_struct_i64(&s, 8, 0), -1234567890123ll);
    cr_assert_eq(capn_struct_u8(&s, 16, 0), 200);
    cr_assert_eq(capn_struct_u16(&s, 18, 0), 60000);
    cr_assert_eq(capn_struct_u32(&s, 20, 0), 4000000000u);
    cr_assert_eq(capn_struct_u64(&s, 24, 0), 18000000000000000000ull);
    cr_assert_eq(capn_struct_f32(&s, 32, 0), 1.5f);
    cr_assert_eq(capn_struct_f64(&s, 40, 0), -2.25);
    text_is(capn_struct_ptr(&s, P_TEXT), "hello world");
    struct capn_data d = capn_ptr_data(capn_struct_ptr(&s, P_DATA), NULL, 0);
    cr_assert_eq(d.len, 4);
    cr_assert_arr_eq(d.ptr, "\xde\xad\xbe\xef", 4);
    struct capn_struct in = capn_ptr_struct(capn_struct_ptr(&s, P_INNER), &def_inner);
    cr_assert_eq(capn_struct_u32(&in, 0, 0), 42);
    text_is(capn_struct_ptr(&in, 0), "inner");
    cr_assert_eq(capn_struct_u16(&s, 36, 0), 2); /* Color.blue */

    struct capn_list bools = capn_ptr_list(capn_struct_ptr(&s, P_BOOLS), CAPN_BIT, NULL);
    static const bool bv[] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
    cr_assert_eq(bools.len, 9);
    for (uint32_t i = 0; i < 9; i++)
        cr_assert_eq(capn_list_bool(&bools, i), bv[i]);
    struct capn_list bytes = capn_ptr_list(capn_struct_ptr(&s, P_BYTES), CAPN_BYTE, NULL);
    cr_assert_eq(bytes.len, 4);
    cr_assert_eq(capn_list_u8(&bytes, 3), 255);
    struct capn_list shorts = capn_ptr_list(capn_struct_ptr(&s, P_SHORTS), CAPN_TWO, NULL);
    cr_assert_eq(capn_list_i16(&shorts, 2), -3);
    struct capn_list ints = capn_ptr_list(capn_struct_ptr(&s, P_INTS), CAPN_FOUR, NULL);
    cr_assert_eq(capn_list_u32(&ints, 1), 200);
    struct capn_list longs = capn_ptr_list(capn_struct_ptr(&s, P_LONGS), CAPN_EIGHT, NULL);
    cr_assert_eq(capn_list_i64(&longs, 0), -5);
    struct capn_list texts = capn_ptr_list(capn_struct_ptr(&s, P_TEXTS), CAPN_PTR, NULL);
    cr_assert_eq(texts.len, 3);
    text_is(capn_list_ptr(&texts, 1), "bc");
    text_is(capn_list_ptr(&texts, 2), "");
    struct capn_list inners = capn_ptr_list(capn_struct_ptr(&s, P_INNERS), CAPN_COMPOSITE, NULL);
    cr_assert_eq(inners.len, 3);
    struct capn_struct i0 = capn_list_struct(&inners, 0), i2 = capn_list_struct(&inners, 2);
    cr_assert_eq(capn_struct_u32(&i0, 0, 0), 1);
    text_is(capn_struct_ptr(&i0, 0), "one");
    cr_assert_eq(capn_struct_u32(&i2, 0, 0), 0);
    text_is(capn_struct_ptr(&i2, 0), "three");
    cr_assert_eq(capn_ptr_list(capn_struct_ptr(&s, P_VOIDS), CAPN_VOID, NULL).len, 3);
    struct capn_list nested = capn_ptr_list(capn_struct_ptr(&s, P_NESTED), CAPN_PTR, NULL);
    struct capn_list n0 = capn_ptr_list(capn_list_ptr(&nested, 0), CAPN_TWO, NULL);
    struct capn_list n1 = capn_ptr_list(capn_list_ptr(&nested, 1), CAPN_TWO, NULL);
    cr_assert_eq(capn_list_u16(&n0, 1), 2);
    cr_assert_eq(n1.len, 0);

    cr_assert_eq(capn_struct_u16(&s, 38, 0), 2); /* which = str */
    text_is(capn_struct_ptr(&s, P_STR), "union text");
    cr_assert_eq(capn_struct_u16(&s, 52, 0), 11);
    cr_assert_eq(capn_struct_u16(&s, 54, 0), 22);
    cr_assert_eq(capn_struct_i32(&s, 56, DEF_I32), 99);
    text_is(capn_struct_ptr(&s, P_DEFTEXT), "bye");
    cr_assert(!capn_struct_bool(&s, 1, true));
    cr_assert(capn_ptr_is_null(capn_struct_ptr(&s, P_ANY)));
    struct capn_struct self = capn_ptr_struct(capn_struct_ptr(&s, P_SELF), NULL);
    cr_assert_eq(capn_struct_u32(&self, 20, 0), 7);
    text_is(capn_struct_ptr(&self, P_TEXT), "child");
    struct capn_struct self2 = capn_ptr_struct(capn_struct_ptr(&self, P_SELF), NULL);
    cr_assert_eq(capn_struct_u32(&self2, 20, 0), 8);
    struct capn_struct di = capn_ptr_struct(capn_struct_ptr(&s, P_DEFINNER), &def_inner);
    cr_assert_eq(capn_struct_u32(&di, 0, 0), 70);
    text_is(capn_struct_ptr(&di, 0), "");
    struct capn_list dl = capn_ptr_list(capn_struct_ptr(&s, P_DEFINTS), CAPN_FOUR, &def_ints);
    cr_assert_eq(dl.len, 0);
    cr_assert_eq(m->err, CAPN_OK, "%s", capn_err_str(m->err));
}

static void check_file(const char *name, bool packed)
{
    size_t len;
    uint8_t *buf = read_file(name, &len);
    cr_assert_not_null(buf, "cannot read %s (run from the repository root)", name);
    if (packed) {
        uint8_t *plain;
        size_t plen;
        cr_assert_eq(capn_host_unpack(buf, len, 1 << 20, &plain, &plen), CAPN_OK);
        free(buf);
        buf = plain;
        len = plen;
    }
    struct capn_seg segs[64];
    struct capn_msg m;
    size_t used;
    cr_assert_eq(capn_msg_read(&m, segs, 64, buf, len, &used), CAPN_OK);
    cr_assert_eq(used, len);
    check_full(&m);
    free(buf);
}

Test(oracle, official_single_segment)
{
    check_file(SEEDS "full.bin", false);
}

Test(oracle, official_packed)
{
    check_file(SEEDS "full.packed", true);
    check_file(SEEDS "full_seg4.packed", true);
}

Test(oracle, official_multi_segment_far_pointers)
{
    check_file(SEEDS "full_seg4.bin", false);
    check_file(SEEDS "full_seg1.bin", false);
}

Test(oracle, official_empty_reads_defaults)
{
    size_t len;
    uint8_t *buf = read_file(SEEDS "empty.bin", &len);
    cr_assert_not_null(buf);
    struct capn_seg segs[4];
    struct capn_msg m;
    cr_assert_eq(capn_msg_read(&m, segs, 4, buf, len, NULL), CAPN_OK);
    struct capn_struct s = root_struct(&m);
    cr_assert_eq(capn_struct_i32(&s, 56, DEF_I32), DEF_I32);
    cr_assert(capn_struct_bool(&s, 1, true));
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&s, P_DEFTEXT), "hello", 5).str, "hello");
    struct capn_struct di = capn_ptr_struct(capn_struct_ptr(&s, P_DEFINNER), &def_inner);
    cr_assert_eq(capn_struct_u32(&di, 0, 0), 7);
    text_is(capn_struct_ptr(&di, 0), "seven");
    struct capn_list dl = capn_ptr_list(capn_struct_ptr(&s, P_DEFINTS), CAPN_FOUR, &def_ints);
    cr_assert_eq(dl.len, 3);
    cr_assert_eq(capn_list_u32(&dl, 2), 3);
    cr_assert_eq(capn_struct_u16(&s, 38, 0), 0); /* which = none */
    cr_assert_eq(m.err, CAPN_OK);
    free(buf);
}

/* The same content as the "full" literal in gen_seeds.sh. Returns the
 * inner struct so a caller can link to it. */
static struct capn_bstruct build_full(struct capn_bld *b)
{
    struct capn_bstruct s = capn_bld_init_root(b, ALL_DW, ALL_NP);
    capn_bstruct_set_bool(&s, 0, true, false);
    capn_bstruct_set_i8(&s, 1, -12, 0);
    capn_bstruct_set_i16(&s, 2, -1234, 0);
    capn_bstruct_set_i32(&s, 4, -123456, 0);
    capn_bstruct_set_i64(&s, 8, -1234567890123ll, 0);
    capn_bstruct_set_u8(&s, 16, 200, 0);
    capn_bstruct_set_u16(&s, 18, 60000, 0);
    capn_bstruct_set_u32(&s, 20, 4000000000u, 0);
    capn_bstruct_set_u64(&s, 24, 18000000000000000000ull, 0);
    capn_bstruct_set_f32(&s, 32, 1.5f, 0);
    capn_bstruct_set_f64(&s, 40, -2.25, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&s, P_TEXT), "hello world", 11);
    capn_bptr_set_data(capn_bstruct_ptr(&s, P_DATA), "\xde\xad\xbe\xef", 4);
    struct capn_bstruct in = capn_bptr_init_struct(capn_bstruct_ptr(&s, P_INNER), 1, 1);
    capn_bstruct_set_u32(&in, 0, 42, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&in, 0), "inner", 5);
    capn_bstruct_set_u16(&s, 36, 2, 0);
    struct capn_blist bl = capn_bptr_init_list(capn_bstruct_ptr(&s, P_BOOLS), CAPN_BIT, 9);
    static const bool bv[] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
    for (uint32_t i = 0; i < 9; i++)
        capn_blist_set_bool(&bl, i, bv[i]);
    struct capn_blist by = capn_bptr_init_list(capn_bstruct_ptr(&s, P_BYTES), CAPN_BYTE, 4);
    static const uint8_t byv[] = {1, 2, 3, 255};
    for (uint32_t i = 0; i < 4; i++)
        capn_blist_set_u8(&by, i, byv[i]);
    struct capn_blist sh = capn_bptr_init_list(capn_bstruct_ptr(&s, P_SHORTS), CAPN_TWO, 3);
    capn_blist_set_i16(&sh, 0, -1);
    capn_blist_set_i16(&sh, 1, 2);
    capn_blist_set_i16(&sh, 2, -3);
    struct capn_blist it = capn_bptr_init_list(capn_bstruct_ptr(&s, P_INTS), CAPN_FOUR, 3);
    for (uint32_t i = 0; i < 3; i++)
        capn_blist_set_u32(&it, i, 100 * (i + 1));
    struct capn_blist lo = capn_bptr_init_list(capn_bstruct_ptr(&s, P_LONGS), CAPN_EIGHT, 2);
    capn_blist_set_i64(&lo, 0, -5);
    capn_blist_set_i64(&lo, 1, 5);
    struct capn_blist tx = capn_bptr_init_list(capn_bstruct_ptr(&s, P_TEXTS), CAPN_PTR, 3);
    capn_bptr_set_text(capn_blist_ptr(&tx, 0), "a", 1);
    capn_bptr_set_text(capn_blist_ptr(&tx, 1), "bc", 2);
    capn_bptr_set_text(capn_blist_ptr(&tx, 2), "", 0);
    struct capn_blist il = capn_bptr_init_struct_list(capn_bstruct_ptr(&s, P_INNERS), 3, 1, 1);
    struct capn_bstruct e0 = capn_blist_struct(&il, 0), e1 = capn_blist_struct(&il, 1);
    struct capn_bstruct e2 = capn_blist_struct(&il, 2);
    capn_bstruct_set_u32(&e0, 0, 1, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&e0, 0), "one", 3);
    capn_bstruct_set_u32(&e1, 0, 2, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&e2, 0), "three", 5);
    capn_bptr_init_list(capn_bstruct_ptr(&s, P_VOIDS), CAPN_VOID, 3);
    struct capn_blist ne = capn_bptr_init_list(capn_bstruct_ptr(&s, P_NESTED), CAPN_PTR, 3);
    struct capn_blist ne0 = capn_bptr_init_list(capn_blist_ptr(&ne, 0), CAPN_TWO, 2);
    capn_blist_set_u16(&ne0, 0, 1);
    capn_blist_set_u16(&ne0, 1, 2);
    capn_bptr_init_list(capn_blist_ptr(&ne, 1), CAPN_TWO, 0);
    struct capn_blist ne2 = capn_bptr_init_list(capn_blist_ptr(&ne, 2), CAPN_TWO, 1);
    capn_blist_set_u16(&ne2, 0, 3);
    capn_bstruct_set_u16(&s, 38, 2, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&s, P_STR), "union text", 10);
    capn_bstruct_set_u16(&s, 52, 11, 0);
    capn_bstruct_set_u16(&s, 54, 22, 0);
    capn_bstruct_set_i32(&s, 56, 99, DEF_I32);
    capn_bptr_set_text(capn_bstruct_ptr(&s, P_DEFTEXT), "bye", 3);
    capn_bstruct_set_bool(&s, 1, false, true);
    struct capn_bstruct self = capn_bptr_init_struct(capn_bstruct_ptr(&s, P_SELF), ALL_DW, ALL_NP);
    capn_bstruct_set_u32(&self, 20, 7, 0);
    capn_bstruct_set_i32(&self, 56, DEF_I32, DEF_I32);
    capn_bstruct_set_bool(&self, 1, true, true);
    capn_bptr_set_text(capn_bstruct_ptr(&self, P_TEXT), "child", 5);
    struct capn_bstruct self2 =
        capn_bptr_init_struct(capn_bstruct_ptr(&self, P_SELF), ALL_DW, ALL_NP);
    capn_bstruct_set_u32(&self2, 20, 8, 0);
    struct capn_bstruct di = capn_bptr_init_struct(capn_bstruct_ptr(&s, P_DEFINNER), 1, 1);
    capn_bstruct_set_u32(&di, 0, 70, 0);
    capn_bptr_init_list(capn_bstruct_ptr(&s, P_DEFINTS), CAPN_FOUR, 0);
    return in;
}

Test(oracle, our_builder_reads_like_official)
{
    struct capn_hbld *h = capn_hbld_new(0);
    build_full(&h->b);
    cr_assert_eq(h->b.err, CAPN_OK);
    struct capn_msg m;
    capn_bld_msg(&h->b, &m);
    check_full(&m);
    capn_hbld_free(h);
}

/* Run "capnp convert FROM:canonical" on bytes; returns malloc'd output. */
static uint8_t *canonical(const char *dir, const char *name, const uint8_t *in, size_t n,
                          const char *from, size_t *out_len)
{
    char path[256], out[256], cmd[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(out, sizeof(out), "%s/%s.canon", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(in, 1, n, f), n);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "capnp convert %s:canonical <'%s' >'%s' 2>'%s.err'", from, path, out,
             out);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "capnp rejected %s (see %s.err)", name, out);
    return read_file(out, out_len);
}

static bool have_capnp(void)
{
    return system("capnp --version >/dev/null 2>&1") == 0;
}

Test(oracle, official_tool_accepts_ours_and_canonicalizes_equal)
{
    if (!have_capnp())
        cr_skip_test("capnp tool not installed");
    char dir[] = "/tmp/capnp-oracle-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    size_t rlen, want_len;
    uint8_t *ref = read_file(SEEDS "full.bin", &rlen);
    uint8_t *want = canonical(dir, "ref.bin", ref, rlen, "binary", &want_len);

    /* One segment. */
    struct capn_hbld *h = capn_hbld_new(0);
    build_full(&h->b);
    size_t len, clen;
    uint8_t *ours = capn_host_frame(&h->b, &len);
    uint8_t *can = canonical(dir, "ours.bin", ours, len, "binary", &clen);
    cr_assert_eq(clen, want_len);
    cr_assert_arr_eq(can, want, want_len);
    free(ours);
    free(can);

    /* Packed. */
    ours = capn_host_frame_packed(&h->b, &len);
    can = canonical(dir, "ours.packed", ours, len, "packed", &clen);
    cr_assert_eq(clen, want_len);
    cr_assert_arr_eq(can, want, want_len);
    free(ours);
    free(can);
    capn_hbld_free(h);

    /* Many 27-word segments: far pointers, and a double far made by
     * re-linking the inner struct once its segment is full. */
    static struct tbld t;
    memset(&t, 0, sizeof(t));
    tbld_init_split(&t, 40, 27); /* the root alone fills segment 0 */
    struct capn_bstruct in = build_full(&t.b);
    t.segs[in.seg].words = t.segs[in.seg].cap;
    struct capn_bstruct root = capn_bptr_get_struct(capn_bld_root(&t.b), ALL_DW, ALL_NP);
    cr_assert(capn_bptr_set_struct(capn_bstruct_ptr(&root, P_INNER), &in));
    cr_assert_neq(in.seg, root.seg);
    cr_assert_eq(capn_load64_(root.ptrs + 8 * P_INNER) & 7, 6, "not a double far");
    cr_assert_eq(t.b.err, CAPN_OK);
    cr_assert_gt(t.b.nsegs, 4);
    ours = capn_host_frame(&t.b, &len);
    can = canonical(dir, "ours_multi.bin", ours, len, "binary", &clen);
    cr_assert_eq(clen, want_len);
    cr_assert_arr_eq(can, want, want_len);
    free(ours);
    free(can);
    free(ref);
    free(want);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
