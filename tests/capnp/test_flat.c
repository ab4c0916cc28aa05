/*
 * Flat messages (lib/capnp/flat.h): what capn_flat_frame writes is a
 * valid message whose root the general reader sees as exactly n data
 * words and no pointers; capn_flat_framed accepts nothing else, neither a
 * framing word with any bit changed nor random words the general reader
 * would read as another shape.
 */
#include <criterion/criterion.h>

#include "capnp/flat.h"
#include "testutil.h"

/* The root as the general reader sees it; false if it is not a struct. */
static bool general_root(const uint64_t *msg, uint32_t words, struct capn_struct *out)
{
    struct capn_msg m;
    struct capn_seg segs[4];
    if (capn_msg_read(&m, segs, 4, msg, 8 * words, 0) != CAPN_OK)
        return false;
    enum capn_ptype t = capn_msg_root_struct(&m, out);
    return capn_ok(&m) && (t == CAPN_PT_STRUCT || t == CAPN_PT_NULL);
}

Test(flat, framed_messages_read_as_n_data_words)
{
    for (uint32_t n = 0; n <= CAPN_FLAT_MAX_DATA; n++) {
        uint64_t msg[CAPN_FLAT_LEN(CAPN_FLAT_MAX_DATA)];
        capn_flat_frame(msg, n);
        for (uint32_t i = 0; i < n; i++)
            msg[CAPN_FLAT_DATA + i] = 0x1111111111111111ull * (i + 1);
        cr_assert(capn_flat_framed(msg, n), "n = %u", n);
        struct capn_struct s;
        cr_assert(general_root(msg, CAPN_FLAT_LEN(n), &s), "n = %u", n);
        cr_assert_eq(s.data_bytes, 8 * n, "n = %u", n);
        cr_assert_eq(s.nptrs, 0);
        for (uint32_t i = 0; i < n; i++)
            cr_assert_eq(capn_struct_u64(&s, 8 * i, 0), msg[CAPN_FLAT_DATA + i]);
        /* Framed for n, it is not framed for any other count. */
        for (uint32_t k = 0; k <= CAPN_FLAT_MAX_DATA; k++)
            cr_assert_eq(capn_flat_framed(msg, k), k == n, "n = %u, k = %u", n, k);
    }
}

Test(flat, any_changed_framing_bit_is_refused)
{
    for (uint32_t n = 0; n <= CAPN_FLAT_MAX_DATA; n++) {
        for (uint32_t w = 0; w < 2; w++) {
            for (uint32_t bit = 0; bit < 64; bit++) {
                uint64_t msg[CAPN_FLAT_LEN(CAPN_FLAT_MAX_DATA)] = {0};
                capn_flat_frame(msg, n);
                msg[w] ^= 1ull << bit;
                cr_assert(!capn_flat_framed(msg, n), "n = %u, word %u, bit %u", n, w, bit);
            }
        }
    }
}

Test(flat, empty_struct_may_be_null_or_the_canonical_empty_root)
{
    uint64_t null_root[2] = {1ull << 32, 0};
    uint64_t empty_root[2] = {1ull << 32, 0xfffffffcull};
    cr_assert(capn_flat_framed(null_root, 0));
    cr_assert(capn_flat_framed(empty_root, 0));
    struct capn_struct s;
    cr_assert(general_root(empty_root, 2, &s) && s.data_bytes == 0 && s.nptrs == 0);
    /* Not for a struct with data: that root would read as all defaults. */
    uint64_t one[3] = {2ull << 32, 0xfffffffcull, 7};
    cr_assert(!capn_flat_framed(one, 1));
}

/* Random framing words around the flat ones: whenever capn_flat_framed
 * says yes, the general reader reads exactly that shape. */
Test(flat, agrees_with_the_general_reader)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int it = 0; it < 200000; it++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        uint32_t n = (uint32_t)(s % (CAPN_FLAT_MAX_DATA + 1));
        uint64_t msg[CAPN_FLAT_LEN(CAPN_FLAT_MAX_DATA)] = {0};
        capn_flat_frame(msg, n);
        /* One or two small changes to either framing word. */
        msg[(s >> 8) & 1] ^= (uint64_t)((s >> 16) & 7) << ((s >> 24) % 64);
        msg[(s >> 30) & 1] += (int64_t)((s >> 32) % 5) - 2;
        if (!capn_flat_framed(msg, n))
            continue;
        struct capn_struct st;
        cr_assert(general_root(msg, CAPN_FLAT_LEN(n), &st));
        cr_assert_eq(st.data_bytes, 8 * n);
        cr_assert_eq(st.nptrs, 0);
    }
}
