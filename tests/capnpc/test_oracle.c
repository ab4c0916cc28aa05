/*
 * Differential tests of the generated code for tests/capnpc/test.capnp
 * against the official implementation (the capnp tool, run from the test):
 *
 *  - messages encoded by `capnp convert` from text and JSON, as one segment,
 *    many small segments (far pointers) and packed, read back through the
 *    generated readers to the expected values;
 *  - messages made by the generated builders (one segment, many segments,
 *    packed) are the same value to the official tool: their canonical form
 *    equals that of the text literal;
 *  - defaults, constants, struct layouts and ids agree with the compiler.
 *
 * Scratch files go to build/capnpc/tmp.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capnp/capnp_host.h"
#include "testgen.h"

#define TMP "build/capnpc/tmp"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap + 1);
    size_t got;
    while ((got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            p = realloc(p, (cap *= 2) + 1);
    }
    fclose(f);
    p[n] = 0;
    *len = n;
    return p;
}

/* Run `capnp ARGS` with `in` on stdin; its stdout, NUL-terminated. */
static uint8_t *tool(const char *args, const void *in, size_t inlen, size_t *outlen)
{
    static int seq;
    char ipath[128], opath[128], cmd[1024];
    mkdir("build/capnpc", 0777);
    mkdir(TMP, 0777);
    snprintf(ipath, sizeof(ipath), TMP "/%d-%d.in", (int)getpid(), seq);
    snprintf(opath, sizeof(opath), TMP "/%d-%d.out", (int)getpid(), seq++);
    FILE *f = fopen(ipath, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(in, 1, inlen, f), inlen);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "capnp %s <%s >%s 2>%s.err", args, ipath, opath, opath);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "`%s` failed; see %s.err", cmd, opath);
    size_t n;
    uint8_t *out = slurp(opath, &n);
    unlink(ipath);
    unlink(opath);
    snprintf(cmd, sizeof(cmd), "%s.err", opath);
    unlink(cmd);
    if (outlen != NULL)
        *outlen = n;
    return out;
}

static uint8_t *tool_text(const char *args, const char *text, size_t *outlen)
{
    return tool(args, text, strlen(text), outlen);
}

/* A message read from framed bytes (kept alive with the reader). */
struct rd {
    uint8_t *buf;
    struct capn_seg segs[CAPN_MAX_SEGS];
    struct capn_msg m;
};

static All_r rd_open(struct rd *r, uint8_t *buf, size_t len)
{
    r->buf = buf;
    cr_assert_eq(capn_msg_read(&r->m, r->segs, CAPN_MAX_SEGS, buf, len, NULL), CAPN_OK);
    return All_read_root(&r->m);
}

/* Canonical bytes of a text literal of All, per the official tool. */
static uint8_t *canonical_of_text(const char *text, size_t *len)
{
    return tool_text("convert text:canonical " SCHEMA " All", text, len);
}

/* The official tool's canonical form of our framed (or packed) bytes. */
static void expect_same_value(const uint8_t *ours, size_t len, bool packed, const char *text)
{
    size_t a, b;
    uint8_t *mine =
        tool(packed ? "convert packed:canonical" : "convert binary:canonical", ours, len, &a);
    uint8_t *want = canonical_of_text(text, &b);
    bool same = a == b && memcmp(mine, want, a) == 0;
    if (!same) {
        uint8_t *t = tool(packed ? "convert packed:text " SCHEMA " All"
                                 : "convert binary:text " SCHEMA " All",
                          ours, len, NULL);
        cr_log_error("ours decodes as:\n%s", (char *)t);
        free(t);
    }
    cr_expect(same, "canonical forms differ (%zu vs %zu bytes)", a, b);
    free(mine);
    free(want);
}

/* ---- Official encoder, generated readers ---- */

Test(capnpc_oracle, official_binary)
{
    size_t len;
    struct rd r;
    uint8_t *bin = tool_text("convert text:binary " SCHEMA " All", FULL_TEXT, &len);
    All_r a = rd_open(&r, bin, len);
    check_full(a);
    cr_expect_eq(r.m.err, CAPN_OK);
    free(r.buf);
}

Test(capnpc_oracle, official_multisegment)
{
    static const int sizes[] = {1, 2, 5, 16};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char args[128];
        size_t len;
        struct rd r;
        snprintf(args, sizeof(args), "convert --segment-size=%d text:binary " SCHEMA " All",
                 sizes[i]);
        uint8_t *bin = tool_text(args, FULL_TEXT, &len);
        All_r a = rd_open(&r, bin, len);
        cr_expect_gt(r.m.nsegs, 4, "segment size %d: %u segments", sizes[i], r.m.nsegs);
        check_full(a);
        cr_expect_eq(r.m.err, CAPN_OK, "segment size %d: %s", sizes[i], capn_err_str(r.m.err));
        free(r.buf);
    }
}

Test(capnpc_oracle, official_packed)
{
    static const char *const args[] = {
        "convert text:packed " SCHEMA " All",
        "convert --segment-size=3 text:packed " SCHEMA " All",
    };
    for (size_t i = 0; i < 2; i++) {
        size_t plen, len;
        uint8_t *packed = tool_text(args[i], FULL_TEXT, &plen), *plain;
        cr_assert_eq(capn_host_unpack(packed, plen, 1 << 20, &plain, &len), CAPN_OK);
        struct rd r;
        check_full(rd_open(&r, plain, len));
        cr_expect_eq(r.m.err, CAPN_OK);
        free(packed);
        free(plain);
    }
}

Test(capnpc_oracle, official_json)
{
    size_t jlen, len;
    uint8_t *json = tool_text("convert text:json " SCHEMA " All", FULL_TEXT, &jlen);
    struct rd r;
    uint8_t *bin = tool("convert json:binary " SCHEMA " All", json, jlen, &len);
    check_full(rd_open(&r, bin, len));
    cr_expect_eq(r.m.err, CAPN_OK);
    free(json);
    free(r.buf);
}

Test(capnpc_oracle, official_defaults)
{
    size_t len;
    struct rd r;
    uint8_t *bin = tool_text("convert text:binary " SCHEMA " All", "()", &len);
    check_defaults(rd_open(&r, bin, len));
    free(r.buf);
}

Test(capnpc_oracle, official_unions)
{
    size_t len;
    struct rd r;
    uint8_t *bin = tool_text("convert --segment-size=2 text:binary " SCHEMA " All",
                             "(grpU = (x = 5, y = \"why\"), grp = (gx = -9),"
                             " choice = (second = 2.5))",
                             &len);
    All_r a = rd_open(&r, bin, len);
    cr_expect_eq(All_which(a), All_which_grpU);
    cr_expect_eq(All_grpU_get_x(All_get_grpU(a)), 5);
    expect_text(All_grpU_get_y(All_get_grpU(a)), "why");
    cr_expect_eq(All_grp_which(All_get_grp(a)), All_grp_which_gx);
    cr_expect_eq(All_grp_get_gx(All_get_grp(a)), -9);
    cr_expect_eq(All_choice_which(All_get_choice(a)), All_choice_which_second);
    cr_expect_eq(All_choice_get_second(All_get_choice(a)), 2.5f);
    free(r.buf);
}

/* ---- Generated builders, official decoder ---- */

Test(capnpc_oracle, builders_one_segment)
{
    struct capn_hbld *h = capn_hbld_new(1 << 16);
    build_full(All_build_root(&h->b));
    cr_assert_eq(h->b.err, CAPN_OK);
    cr_expect_eq(h->b.nsegs, 1);
    size_t len;
    uint8_t *bytes = capn_host_frame(&h->b, &len);
    expect_same_value(bytes, len, false, FULL_TEXT);
    free(bytes);
    capn_hbld_free(h);
}

Test(capnpc_oracle, builders_many_segments)
{
    /* Segments of a few words each: far and double-far pointers. */
    static uint64_t mem[4096];
    struct capn_seg segs[256];
    struct capn_bld b;
    capn_bld_init(&b, segs, 256, NULL, 0);
    for (uint32_t i = 0, at = 0, n; i < 256; at += n, i++) {
        n = i % 32 == 31 ? 64 : 2 + i % 9; /* the root struct needs 51 words */
        capn_bld_add_seg(&b, mem + at, n * 8);
    }
    build_full(All_build_root(&b));
    cr_assert_eq(b.err, CAPN_OK, "%s", capn_err_str(b.err));
    cr_expect_gt(b.nsegs, 20);
    size_t len;
    uint8_t *bytes = capn_host_frame(&b, &len);
    expect_same_value(bytes, len, false, FULL_TEXT);
    free(bytes);
}

Test(capnpc_oracle, builders_packed)
{
    struct capn_hbld *h = capn_hbld_new(256);
    build_full(All_build_root(&h->b));
    size_t len;
    uint8_t *packed = capn_host_frame_packed(&h->b, &len);
    cr_assert_not_null(packed);
    expect_same_value(packed, len, true, FULL_TEXT);
    free(packed);
    capn_hbld_free(h);
}

Test(capnpc_oracle, builders_unions)
{
    struct capn_hbld *h = capn_hbld_new(0);
    All_b b = All_build_root(&h->b);
    Inner_set_a(All_init_obj(b), 3);
    All_grp_set_gx(All_init_grp(b), 12);
    All_choice_set_first(All_init_choice(b), -300);
    size_t len;
    uint8_t *bytes = capn_host_frame(&h->b, &len);
    expect_same_value(bytes, len, false,
                      "(obj = (a = 3), grp = (gx = 12), choice = (first = -300))");
    free(bytes);
    capn_hbld_free(h);
}

Test(capnpc_oracle, builders_set_defaults_as_zero)
{
    /* XOR encoding: setting every default explicitly is the empty value. */
    struct capn_hbld *h = capn_hbld_new(0);
    All_b b = All_build_root(&h->b);
    All_set_dBool(b, true);
    All_set_dI8(b, -8);
    All_set_dI16(b, -1600);
    All_set_dI32(b, -320000);
    All_set_dI64(b, -6400000000000);
    All_set_dU8(b, 200);
    All_set_dU16(b, 60000);
    All_set_dU32(b, 4000000000u);
    All_set_dU64(b, 18000000000000000000u);
    All_set_dF32(b, 3.5f);
    All_set_dF64(b, -1.25e100);
    All_set_dColor(b, Color_blue);
    All_set_dI64Min(b, INT64_MIN);
    All_set_dI32Min(b, INT32_MIN);
    Inner_set_color(All_init_inner(b), Color_green);
    size_t len;
    uint8_t *bytes = capn_host_frame(&h->b, &len);
    expect_same_value(bytes, len, false, "(inner = ())");
    free(bytes);
    capn_hbld_free(h);
}

Test(capnpc_oracle, pointer_defaults_match_eval)
{
    /* Copy each pointer default our readers give into an explicit field;
     * the official tool must see the values `capnp eval` prints. */
    static const char *const fields[] = {"dText",  "dData",   "dInner", "dI32s",
                                         "dTexts", "dInners", "dBools", "dNested"};
    struct capn_msg empty;
    capn_msg_init(&empty, NULL, 0);
    All_r d = All_read_root(&empty);
    struct capn_hbld *h = capn_hbld_new(0);
    All_b b = All_build_root(&h->b);
    struct capn_text t = All_get_dText(d);
    struct capn_data dd = All_get_dData(d);
    All_set_dText(b, t.str, t.len);
    All_set_dData(b, dd.ptr, dd.len);
    cr_expect_eq(All_set_dInner(b, All_get_dInner(d)), CAPN_OK);
    cr_expect_eq(All_set_dI32s(b, All_get_dI32s(d)), CAPN_OK);
    cr_expect_eq(All_set_dTexts(b, All_get_dTexts(d)), CAPN_OK);
    cr_expect_eq(All_set_dInners(b, All_get_dInners(d)), CAPN_OK);
    cr_expect_eq(All_set_dBools(b, All_get_dBools(d)), CAPN_OK);
    cr_expect_eq(All_set_dNested(b, All_get_dNested(d)), CAPN_OK);
    char text[4096] = "(";
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char args[256];
        snprintf(args, sizeof(args), "eval --short " SCHEMA " All.%s", fields[i]);
        char *v = (char *)tool_text(args, "", NULL);
        v[strcspn(v, "\n")] = 0;
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s = %s", i ? ", " : "",
                 fields[i], v);
        free(v);
    }
    strcat(text, ")");
    size_t len;
    uint8_t *bytes = capn_host_frame(&h->b, &len);
    expect_same_value(bytes, len, false, text);
    free(bytes);
    capn_hbld_free(h);
}

Test(capnpc_oracle, constants_match_eval)
{
    size_t len;
    struct rd r;
    uint8_t *bin = tool_text("eval -obinary " SCHEMA " constInner", "", &len);
    cr_assert_eq(capn_msg_read(&r.m, r.segs, CAPN_MAX_SEGS, bin, len, NULL), CAPN_OK);
    Inner_r want = Inner_read_root(&r.m), got = constInner();
    cr_expect_eq(Inner_get_a(got), Inner_get_a(want));
    cr_expect_eq(Inner_get_color(got), Inner_get_color(want));
    expect_text(Inner_get_s(got), Inner_get_s(want).str);
    free(bin);
    char *v = (char *)tool_text("eval " SCHEMA " constU32", "", NULL);
    cr_expect_eq(strtoul(v, NULL, 10), constU32);
    free(v);
    v = (char *)tool_text("eval " SCHEMA " constF64", "", NULL);
    cr_expect_eq(strtod(v, NULL), constF64);
    free(v);
    v = (char *)tool_text("eval --short " SCHEMA " constList", "", NULL);
    cr_expect_str_eq(v, "[10, 20, 30]\n");
    free(v);
}

/* "struct Name @0x... {  # N bytes, M ptrs" in `capnp compile -ocapnp`. */
static void expect_layout(const char *listing, const char *decl, uint64_t id, unsigned bytes,
                          unsigned ptrs)
{
    char want[256];
    snprintf(want, sizeof(want), "%s @0x%016llx {  # %u bytes, %u ptrs", decl,
             (unsigned long long)id, bytes, ptrs);
    cr_expect_not_null(strstr(listing, want), "missing: %s", want);
}

Test(capnpc_oracle, layouts_and_ids)
{
    char *l = (char *)tool_text("compile -ocapnp " SCHEMA, "", NULL);
    expect_layout(l, "struct Inner", Inner_TYPE_ID, Inner_DATA_WORDS * 8, Inner_PTR_COUNT);
    expect_layout(l, "struct All", All_TYPE_ID, All_DATA_WORDS * 8, All_PTR_COUNT);
    expect_layout(l, "struct Outer", Outer_TYPE_ID, Outer_DATA_WORDS * 8, Outer_PTR_COUNT);
    expect_layout(l, "struct Nested", Outer_Nested_TYPE_ID, Outer_Nested_DATA_WORDS * 8,
                  Outer_Nested_PTR_COUNT);
    expect_layout(l, "struct Choice", Choice_TYPE_ID, Choice_DATA_WORDS * 8, Choice_PTR_COUNT);
    char want[128];
    snprintf(want, sizeof(want), "interface Service @0x%016llx {",
             (unsigned long long)Service_INTERFACE_ID);
    cr_expect_not_null(strstr(l, want), "missing: %s", want);
    snprintf(want, sizeof(want), "interface SubService @0x%016llx superclasses(Service) {",
             (unsigned long long)SubService_INTERFACE_ID);
    cr_expect_not_null(strstr(l, want), "missing: %s", want);
    snprintf(want, sizeof(want), "enum Color @0x%016llx {", (unsigned long long)Color_TYPE_ID);
    cr_expect_not_null(strstr(l, want), "missing: %s", want);
    free(l);
}

/* Seeded random scalars, built by us and written as text for the tool. */
Test(capnpc_oracle, random_scalars)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int iter = 0; iter < 8; iter++) {
        uint64_t v[8];
        for (int i = 0; i < 8; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            v[i] = s;
        }
        struct capn_hbld *h = capn_hbld_new(0);
        All_b b = All_build_root(&h->b);
        All_set_i8(b, (int8_t)v[0]);
        All_set_i16(b, (int16_t)v[1]);
        All_set_i32(b, (int32_t)v[2]);
        All_set_i64(b, (int64_t)v[3]);
        All_set_u8(b, (uint8_t)v[4]);
        All_set_u16(b, (uint16_t)(v[4] >> 8));
        All_set_u32(b, (uint32_t)v[5]);
        All_set_u64(b, v[6]);
        All_set_dI32(b, (int32_t)(v[7] >> 32));
        All_set_dU64(b, v[7]);
        All_set_b(b, v[0] & 1);
        All_set_dBool(b, v[1] & 1);
        All_set_color(b, (Color)(v[2] % 3));
        char text[1024];
        snprintf(text, sizeof(text),
                 "(i8 = %d, i16 = %d, i32 = %d, i64 = %lld, u8 = %u, u16 = %u, u32 = %u,"
                 " u64 = %llu, dI32 = %d, dU64 = %llu, b = %s, dBool = %s, color = %s)",
                 (int8_t)v[0], (int16_t)v[1], (int32_t)v[2], (long long)(int64_t)v[3],
                 (uint8_t)v[4], (uint16_t)(v[4] >> 8), (uint32_t)v[5], (unsigned long long)v[6],
                 (int32_t)(v[7] >> 32), (unsigned long long)v[7], (v[0] & 1) ? "true" : "false",
                 (v[1] & 1) ? "true" : "false", Color_NAMES[v[2] % 3]);
        size_t len;
        uint8_t *bytes = capn_host_frame(&h->b, &len);
        expect_same_value(bytes, len, false, text);
        free(bytes);
        capn_hbld_free(h);
    }
}
