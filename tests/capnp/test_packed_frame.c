/*
 * Packed encoding (known vectors, round trips, hostile input) and message
 * framing (segment tables with odd and even counts, trailing data).
 */
#include <criterion/criterion.h>

#include "testutil.h"

static void expect_pack(const uint8_t *in, size_t n, const uint8_t *want, size_t wn)
{
    static uint8_t out[4096], back[4096];
    size_t len, blen;
    cr_assert_eq(capn_pack(in, n, out, sizeof(out), &len), CAPN_OK);
    cr_assert_eq(len, wn, "packed length %zu, want %zu", len, wn);
    cr_assert_eq(capn_unpack(out, len, back, sizeof(back), &blen), CAPN_OK);
    cr_assert_eq(blen, n);
    if (n > 0) {
        cr_assert_arr_eq(out, want, wn);
        cr_assert_arr_eq(back, in, n);
    }
}

Test(packed, known_vectors)
{
    static const uint8_t a[] = {0x08, 0, 0, 0, 0x03, 0, 0x02, 0, 0x19, 0, 0, 0, 0xaa, 0x01, 0, 0};
    static const uint8_t pa[] = {0x51, 0x08, 0x03, 0x02, 0x31, 0x19, 0xaa, 0x01};
    expect_pack(a, sizeof(a), pa, sizeof(pa));

    static const uint8_t zeros[32] = {0};
    static const uint8_t pz[] = {0x00, 0x03};
    expect_pack(zeros, sizeof(zeros), pz, sizeof(pz));

    /* A dense word, then two more dense words copied verbatim, then a
     * sparse one. */
    uint8_t d[32], pd[64];
    size_t k = 0;
    for (int i = 0; i < 24; i++)
        d[i] = (uint8_t)(i + 1);
    d[12] = 0; /* one zero byte still counts as dense */
    memset(d + 24, 0, 8);
    d[31] = 7;
    pd[k++] = 0xff;
    for (int i = 0; i < 8; i++)
        pd[k++] = d[i];
    pd[k++] = 2;
    for (int i = 8; i < 24; i++)
        pd[k++] = d[i];
    pd[k++] = 0x80;
    pd[k++] = 7;
    expect_pack(d, sizeof(d), pd, k);

    expect_pack(NULL, 0, NULL, 0);
}

Test(packed, long_zero_run_splits_at_256_words)
{
    static uint8_t z[8 * 300];
    static const uint8_t want[] = {0x00, 0xff, 0x00, 0x2b};
    expect_pack(z, sizeof(z), want, sizeof(want));
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

Test(packed, random_round_trips)
{
    static uint8_t in[8 * 700], out[8 * 700 / 8 * 10 + 10], back[8 * 700];
    for (int iter = 0; iter < 300; iter++) {
        size_t words = next() % 700;
        unsigned density = (unsigned)(next() % 9); /* nonzero bytes per 8 */
        for (size_t i = 0; i < words * 8; i++)
            in[i] = (next() % 8) < density ? (uint8_t)(next() | 1) : 0;
        size_t len, blen;
        cr_assert_eq(capn_pack(in, words * 8, out, sizeof(out), &len), CAPN_OK);
        cr_assert_leq(len, capn_pack_bound(words * 8));
        cr_assert_eq(capn_unpack(out, len, back, sizeof(back), &blen), CAPN_OK);
        cr_assert_eq(blen, words * 8);
        cr_assert_arr_eq(back, in, blen, "iteration %d", iter);
        /* Too small an output fails cleanly. */
        if (len > 0)
            cr_assert_eq(capn_pack(in, words * 8, out, len - 1, &len), CAPN_ERR_OVERFLOW);
    }
}

Test(packed, worst_case_bound)
{
    /* Alternating dense and sparse words: every dense word pays a run
     * count. The bound still holds. */
    static uint8_t in[8 * 64], out[8 * 64 / 8 * 10 + 10];
    for (int w = 0; w < 64; w++)
        for (int b = 0; b < 8; b++)
            in[w * 8 + b] = (w % 2 == 0 || b < 2) ? 0x5a : 0;
    size_t len;
    cr_assert_eq(capn_pack(in, sizeof(in), out, sizeof(out), &len), CAPN_OK);
    cr_assert_leq(len, capn_pack_bound(sizeof(in)));
    cr_assert_eq(capn_pack(in, 12, out, sizeof(out), &len), CAPN_ERR_ARG);
}

Test(packed, hostile_input)
{
    uint8_t out[64];
    size_t len;
    static const uint8_t trunc_word[] = {0xff, 1, 2};
    cr_assert_eq(capn_unpack(trunc_word, sizeof(trunc_word), out, sizeof(out), &len),
                 CAPN_ERR_PACKED_TRUNCATED);
    static const uint8_t no_zero_count[] = {0x00};
    cr_assert_eq(capn_unpack(no_zero_count, 1, out, sizeof(out), &len), CAPN_ERR_PACKED_TRUNCATED);
    static const uint8_t no_raw_count[] = {0xff, 1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert_eq(capn_unpack(no_raw_count, sizeof(no_raw_count), out, sizeof(out), &len),
                 CAPN_ERR_PACKED_TRUNCATED);
    static const uint8_t short_raw[] = {0xff, 1, 2, 3, 4, 5, 6, 7, 8, 2, 1, 2, 3};
    cr_assert_eq(capn_unpack(short_raw, sizeof(short_raw), out, sizeof(out), &len),
                 CAPN_ERR_PACKED_TRUNCATED);
    /* 2 bytes claiming 256 zero words: bounded by the output capacity. */
    static const uint8_t bomb[] = {0x00, 0xff, 0x00, 0xff};
    cr_assert_eq(capn_unpack(bomb, sizeof(bomb), out, sizeof(out), &len), CAPN_ERR_OVERFLOW);
    static const uint8_t tag_only[] = {0x01, 0x05};
    cr_assert_eq(capn_unpack(tag_only, 2, out, 7, &len), CAPN_ERR_OVERFLOW);
    cr_assert_eq(capn_unpack(tag_only, 2, out, 8, &len), CAPN_OK);
    cr_assert_eq(len, 8);
    cr_assert_eq(out[0], 5);
}

Test(packed, host_unpack_grows)
{
    static const uint8_t bomb[] = {0x00, 0xff, 0x00, 0xff};
    uint8_t *out;
    size_t len;
    cr_assert_eq(capn_host_unpack(bomb, sizeof(bomb), 1 << 20, &out, &len), CAPN_OK);
    cr_assert_eq(len, 2 * 256 * 8);
    free(out);
    cr_assert_eq(capn_host_unpack(bomb, sizeof(bomb), 1000, &out, &len), CAPN_ERR_OVERFLOW);
}

Test(frame, header_layout_and_round_trip)
{
    uint64_t a[2] = {1, 2}, b[1] = {3}, c[3] = {4, 5, 6};
    struct capn_seg segs[3] = {seg_of(a, 2), seg_of(b, 1), seg_of(c, 3)};
    for (uint32_t n = 1; n <= 3; n++) {
        uint8_t out[128];
        size_t len, used;
        size_t size = capn_frame_size(segs, n);
        size_t hdr = n == 1 ? 8 : n == 2 ? 16 : 16;
        size_t body = n == 1 ? 16 : n == 2 ? 24 : 48;
        cr_assert_eq(size, hdr + body);
        cr_assert_eq(capn_frame_write(segs, n, out, size - 1, &len), CAPN_ERR_OVERFLOW);
        memset(out, 0xee, sizeof(out));
        cr_assert_eq(capn_frame_write(segs, n, out, sizeof(out), &len), CAPN_OK);
        cr_assert_eq(len, size);
        uint32_t count;
        memcpy(&count, out, 4);
        cr_assert_eq(count, n - 1);
        if (n == 2) { /* padding word is zero */
            uint32_t pad;
            memcpy(&pad, out + 12, 4);
            cr_assert_eq(pad, 0);
        }
        struct capn_seg rs[3];
        uint32_t rn;
        cr_assert_eq(capn_frame_read(out, len + 5, rs, 3, &rn, &used), CAPN_OK);
        cr_assert_eq(rn, n);
        cr_assert_eq(used, len); /* trailing bytes are not part of it */
        for (uint32_t i = 0; i < n; i++) {
            cr_assert_eq(rs[i].words, segs[i].words);
            cr_assert_arr_eq(rs[i].data, segs[i].data, segs[i].words * 8);
        }
    }
    cr_assert_eq(capn_frame_size(segs, 0), 0);
    uint8_t small[4];
    size_t len;
    cr_assert_eq(capn_frame_header(segs, 3, small, sizeof(small), &len), CAPN_ERR_OVERFLOW);
}

Test(frame, two_messages_back_to_back)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 1, 0);
    capn_bstruct_set_u64(&r, 0, 11, 0);
    size_t one = capn_bld_frame_size(&t.b), len;
    uint8_t *buf = malloc(2 * one);
    cr_assert_eq(capn_bld_write(&t.b, buf, one, &len), CAPN_OK);
    capn_bstruct_set_u64(&r, 0, 22, 0);
    cr_assert_eq(capn_bld_write(&t.b, buf + one, one, &len), CAPN_OK);
    struct capn_seg segs[1];
    struct capn_msg m;
    size_t used;
    cr_assert_eq(capn_msg_read(&m, segs, 1, buf, 2 * one, &used), CAPN_OK);
    struct capn_struct s = root_struct(&m);
    cr_assert_eq(capn_struct_u64(&s, 0, 0), 11);
    cr_assert_eq(capn_msg_read(&m, segs, 1, buf + used, 2 * one - used, NULL), CAPN_OK);
    s = root_struct(&m);
    cr_assert_eq(capn_struct_u64(&s, 0, 0), 22);
    free(buf);
}

Test(frame, packed_message_round_trip)
{
    struct capn_hbld *h = capn_hbld_new(64);
    struct capn_bstruct r = capn_bld_init_root(&h->b, 2, 2);
    capn_bstruct_set_u64(&r, 8, 0xfeed, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&r, 1), "packed and framed", 17);
    struct capn_blist l = capn_bptr_init_list(capn_bstruct_ptr(&r, 0), CAPN_EIGHT, 100);
    for (uint32_t i = 0; i < 100; i++)
        capn_blist_set_u64(&l, i, i % 10 == 0 ? 0 : ~(uint64_t)i);
    cr_assert_eq(h->b.err, CAPN_OK);
    cr_assert_gt(h->b.nsegs, 1); /* 64-byte first segment forces growth */
    size_t plen, ulen;
    uint8_t *packed = capn_host_frame_packed(&h->b, &plen);
    uint8_t *plain;
    cr_assert_eq(capn_host_unpack(packed, plen, 1 << 20, &plain, &ulen), CAPN_OK);
    cr_assert_eq(ulen, capn_bld_frame_size(&h->b));
    struct capn_seg segs[16];
    struct capn_msg m;
    cr_assert_eq(capn_msg_read(&m, segs, 16, plain, ulen, NULL), CAPN_OK);
    struct capn_struct s = root_struct(&m);
    cr_assert_eq(capn_struct_u64(&s, 8, 0), 0xfeed);
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&s, 1), NULL, 0).str, "packed and framed");
    struct capn_list rl = capn_ptr_list(capn_struct_ptr(&s, 0), CAPN_EIGHT, NULL);
    cr_assert_eq(capn_list_u64(&rl, 99), ~(uint64_t)99);
    cr_assert_eq(m.err, CAPN_OK);
    free(packed);
    free(plain);
    capn_hbld_free(h);
}
