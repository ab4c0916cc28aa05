/*
 * What bench_main.c needs from each implementation (bench_c.c: ours,
 * bench_cpp.c++: the official C++ library), and the values both put in
 * their messages, so that they build byte-identical messages and read back
 * the same checksum. Values that change per message come from a seed, so
 * the compilers cannot fold the builds away.
 */
#ifndef CAPOS_BENCH_CAPNP_BENCH_H
#define CAPOS_BENCH_CAPNP_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { B_BUILD_ORDER, B_READ_ORDER, B_BUILD_CALL, B_READ_CALL, B_COUNT };

struct bench_impl {
    const char *name;
    /* Run benchmark `which` n times over `in` (the framed message, for the
     * read benchmarks); a checksum. Not inlined, so that callgrind can
     * count exactly this (--toggle-collect=c_loop or cpp_loop). */
    uint64_t (*loop)(int which, long n, const void *in, size_t len);
    /* Build the message with seed 1 and frame it into out; its size, or 0. */
    size_t (*frame)(int which, void *out, size_t cap);
};

extern const struct bench_impl bench_c, bench_cpp;

#ifdef __cplusplus
}
#endif

#ifdef BENCH_IMPL
/*
 * In bench_c.c and bench_cpp.c++ (which define BENCH_IMPL): the values,
 * the functions each implements with its own library, and the loop, the
 * same for both, which calls them directly.
 */
#define ORDER_ITEMS   16
#define ORDER_TAGS    4
#define ORDER_WEIGHTS 8

static const char *const bench_item_names[ORDER_ITEMS] = {
    "keyboard", "mouse", "monitor 27in", "usb-c cable", "dock",    "webcam",
    "headset",  "chair", "desk lamp",    "notebook",    "pen set", "ssd 1tb",
    "router",   "hub",   "adapter",      "cable ties",
};
static const char *const bench_tags[ORDER_TAGS] = {"priority", "gift", "eu", "repeat-customer"};
static const char bench_note[] = "leave at the front desk, ring twice";
static const char bench_customer_name[] = "Ada Lovelace";
static const char bench_customer_email[] = "ada@example.org";
static const char bench_call_name[] = "log";

static void build_order(uint64_t seed);
static void build_call(uint64_t seed);
static uint64_t read_order(const void *buf, size_t len);
static uint64_t read_call(const void *buf, size_t len);

static inline __attribute__((always_inline)) uint64_t bench_loop_(int which, long n, const void *in,
                                                                  size_t len)
{
    uint64_t sum = 0;
    switch (which) {
    case B_BUILD_ORDER:
        for (long i = 0; i < n; i++)
            build_order((uint64_t)i);
        break;
    case B_READ_ORDER:
        for (long i = 0; i < n; i++)
            sum += read_order(in, len);
        break;
    case B_BUILD_CALL:
        for (long i = 0; i < n; i++)
            build_call((uint64_t)i);
        break;
    default:
        for (long i = 0; i < n; i++)
            sum += read_call(in, len);
        break;
    }
    return sum;
}
#endif

#endif
