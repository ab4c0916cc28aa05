/*
 * Our side of `make bench-capnp`: build and fully read bench.capnp's Order
 * (~1 KiB) and Call (48 bytes) with lib/capnp and the code capnpc-c
 * generates. bench_cpp.c++ does the same with the official C++ library.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BENCH_IMPL

#include "bench.capnp.h"
#include "bench.h"

/* Builder state reused for every message: one arena, like the C++ side's
 * reused scratch segment. */
static uint64_t arena[1024];
static struct capn_seg bsegs[4];
static struct capn_bld bld;

static void build_order(uint64_t seed)
{
    capn_bld_reset(&bld);
    Order_b o = Order_build_root(&bld);
    Order_set_id(o, seed);
    Order_set_timestamp(o, (int64_t)(1700000000000 + seed));
    Customer_b c = Order_init_customer(o);
    Customer_set_id(c, (uint32_t)seed * 7);
    Customer_set_name(c, bench_customer_name, sizeof(bench_customer_name) - 1);
    Customer_set_email(c, bench_customer_email, sizeof(bench_customer_email) - 1);
    Customer_set_vip(c, (seed & 1) != 0);
    List_Item_b items = Order_init_items(o, ORDER_ITEMS);
    uint64_t total = 0;
    for (uint32_t i = 0; i < ORDER_ITEMS; i++) {
        Item_b it = List_Item_at(items, i);
        Item_set_sku(it, seed * 100 + i);
        Item_set_qty(it, (uint16_t)(i + 1));
        Item_set_price(it, 9.5 + i);
        Item_set_name(it, bench_item_names[i], (uint32_t)strlen(bench_item_names[i]));
        Item_set_gift(it, (i & 3) == 0);
        total += (uint64_t)(i + 1) * (10 + i);
    }
    List_Text_b tags = Order_init_tags(o, ORDER_TAGS);
    for (uint32_t i = 0; i < ORDER_TAGS; i++)
        List_Text_set(tags, i, bench_tags[i], (uint32_t)strlen(bench_tags[i]));
    Order_set_note(o, bench_note, sizeof(bench_note) - 1);
    Order_set_status(o, Status_paid);
    Order_set_total(o, total);
    Order_set_express(o, true);
    List_UInt32_b w = Order_init_weights(o, ORDER_WEIGHTS);
    for (uint32_t i = 0; i < ORDER_WEIGHTS; i++)
        List_UInt32_set(w, i, (uint32_t)(seed + i * 250));
}

static void build_call(uint64_t seed)
{
    capn_bld_reset(&bld);
    Call_b c = Call_build_root(&bld);
    Call_set_offset(c, seed * 4096);
    Call_set_length(c, 512);
    Call_set_flags(c, 3);
    Call_set_sync(c, true);
    Call_set_name(c, bench_call_name, sizeof(bench_call_name) - 1);
}

static uint64_t text_sum(struct capn_text t)
{
    return t.len + (uint8_t)t.str[0];
}

static uint64_t read_order(const void *buf, size_t len)
{
    struct capn_seg segs[4];
    struct capn_msg m;
    if (capn_msg_read(&m, segs, 4, buf, len, NULL) != CAPN_OK)
        return 0;
    Order_r o = Order_read_root(&m);
    uint64_t sum = Order_get_id(o) + (uint64_t)Order_get_timestamp(o);
    Customer_r c = Order_get_customer(o);
    sum += Customer_get_id(c) + text_sum(Customer_get_name(c)) + text_sum(Customer_get_email(c)) +
           Customer_get_vip(c);
    List_Item_r items = Order_get_items(o);
    for (uint32_t i = 0; i < List_Item_len(items); i++) {
        Item_r it = List_Item_get(items, i);
        sum += Item_get_sku(it) + Item_get_qty(it) + (uint64_t)(Item_get_price(it) * 100) +
               text_sum(Item_get_name(it)) + Item_get_gift(it);
    }
    List_Text_r tags = Order_get_tags(o);
    for (uint32_t i = 0; i < List_Text_len(tags); i++)
        sum += text_sum(List_Text_get(tags, i));
    sum += text_sum(Order_get_note(o)) + (uint64_t)Order_get_status(o) + Order_get_total(o) +
           Order_get_express(o);
    List_UInt32_r w = Order_get_weights(o);
    for (uint32_t i = 0; i < List_UInt32_len(w); i++)
        sum += List_UInt32_get(w, i);
    return m.err == CAPN_OK ? sum : 0;
}

static uint64_t read_call(const void *buf, size_t len)
{
    struct capn_seg segs[4];
    struct capn_msg m;
    if (capn_msg_read(&m, segs, 4, buf, len, NULL) != CAPN_OK)
        return 0;
    Call_r c = Call_read_root(&m);
    uint64_t sum = Call_get_offset(c) + Call_get_length(c) + Call_get_flags(c) + Call_get_sync(c) +
                   text_sum(Call_get_name(c));
    return m.err == CAPN_OK ? sum : 0;
}

/* Build with seed 1 and frame, for the read benchmarks and to compare the
 * bytes with the C++ side's. */
static size_t frame(int which, void *out, size_t cap)
{
    size_t len = 0;
    if (bld.segs == NULL)
        capn_bld_init(&bld, bsegs, 4, arena, sizeof(arena));
    if (which == B_BUILD_ORDER || which == B_READ_ORDER)
        build_order(1);
    else
        build_call(1);
    if (bld.err != CAPN_OK || capn_bld_write(&bld, out, cap, &len) != CAPN_OK)
        return 0;
    return len;
}

/* Not inlined: callgrind counts inside it (--toggle-collect=c_loop). */
__attribute__((noinline)) static uint64_t c_loop(int which, long n, const void *in, size_t len)
{
    return bench_loop_(which, n, in, len);
}

const struct bench_impl bench_c = {"ours", c_loop, frame};
