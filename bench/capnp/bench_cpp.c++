// The C++ side of `make bench-capnp`: the same messages as bench_c.c, built
// and read with the official library (Debian libcapnp-dev) and the code
// `capnp compile -oc++` generates. Building uses a MallocMessageBuilder over
// a reused, zeroed first segment (the library re-zeroes what it used when
// the builder is destroyed), the allocation-free way to build; reading uses
// FlatArrayMessageReader over the framed bytes, with the default limits.
#define BENCH_IMPL

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <cstdint>
#include <cstring>

#include "bench.capnp.h"
#include "bench.h"

static capnp::word scratch[1024];

static void fill_order(Order::Builder o, uint64_t seed)
{
    o.setId(seed);
    o.setTimestamp(static_cast<int64_t>(1700000000000 + seed));
    auto c = o.initCustomer();
    c.setId(static_cast<uint32_t>(seed) * 7);
    c.setName(capnp::Text::Reader(bench_customer_name, sizeof(bench_customer_name) - 1));
    c.setEmail(capnp::Text::Reader(bench_customer_email, sizeof(bench_customer_email) - 1));
    c.setVip((seed & 1) != 0);
    auto items = o.initItems(ORDER_ITEMS);
    uint64_t total = 0;
    for (uint32_t i = 0; i < ORDER_ITEMS; i++) {
        auto it = items[i];
        it.setSku(seed * 100 + i);
        it.setQty(static_cast<uint16_t>(i + 1));
        it.setPrice(9.5 + i);
        it.setName(capnp::Text::Reader(bench_item_names[i], strlen(bench_item_names[i])));
        it.setGift((i & 3) == 0);
        total += static_cast<uint64_t>(i + 1) * (10 + i);
    }
    auto tags = o.initTags(ORDER_TAGS);
    for (uint32_t i = 0; i < ORDER_TAGS; i++)
        tags.set(i, capnp::Text::Reader(bench_tags[i], strlen(bench_tags[i])));
    o.setNote(capnp::Text::Reader(bench_note, sizeof(bench_note) - 1));
    o.setStatus(Status::PAID);
    o.setTotal(total);
    o.setExpress(true);
    auto w = o.initWeights(ORDER_WEIGHTS);
    for (uint32_t i = 0; i < ORDER_WEIGHTS; i++)
        w.set(i, static_cast<uint32_t>(seed + i * 250));
}

static void fill_call(Call::Builder c, uint64_t seed)
{
    c.setOffset(seed * 4096);
    c.setLength(512);
    c.setFlags(3);
    c.setSync(true);
    c.setName(capnp::Text::Reader(bench_call_name, sizeof(bench_call_name) - 1));
}

static void build_order(uint64_t seed)
{
    capnp::MallocMessageBuilder b(kj::arrayPtr(scratch, 1024));
    fill_order(b.initRoot<Order>(), seed);
}

static void build_call(uint64_t seed)
{
    capnp::MallocMessageBuilder b(kj::arrayPtr(scratch, 1024));
    fill_call(b.initRoot<Call>(), seed);
}

static size_t frame(int which, void *out, size_t cap)
{
    capnp::MallocMessageBuilder b(kj::arrayPtr(scratch, 1024));
    if (which == B_BUILD_ORDER || which == B_READ_ORDER)
        fill_order(b.initRoot<Order>(), 1);
    else
        fill_call(b.initRoot<Call>(), 1);
    auto flat = capnp::messageToFlatArray(b);
    size_t len = flat.asBytes().size();
    if (len > cap)
        return 0;
    memcpy(out, flat.begin(), len);
    return len;
}

static uint64_t text_sum(capnp::Text::Reader t)
{
    return t.size() + static_cast<uint8_t>(t.cStr()[0]);
}

static kj::ArrayPtr<const capnp::word> words(const void *buf, size_t len)
{
    return kj::arrayPtr(reinterpret_cast<const capnp::word *>(buf), len / sizeof(capnp::word));
}

static uint64_t read_order(const void *buf, size_t len)
{
    capnp::FlatArrayMessageReader m(words(buf, len));
    auto o = m.getRoot<Order>();
    uint64_t sum = o.getId() + static_cast<uint64_t>(o.getTimestamp());
    auto c = o.getCustomer();
    sum += c.getId() + text_sum(c.getName()) + text_sum(c.getEmail()) + c.getVip();
    auto items = o.getItems();
    for (uint32_t i = 0; i < items.size(); i++) {
        auto it = items[i];
        sum += it.getSku() + it.getQty() + static_cast<uint64_t>(it.getPrice() * 100) +
               text_sum(it.getName()) + it.getGift();
    }
    auto tags = o.getTags();
    for (uint32_t i = 0; i < tags.size(); i++)
        sum += text_sum(tags[i]);
    sum += text_sum(o.getNote()) + static_cast<uint64_t>(o.getStatus()) + o.getTotal() +
           o.getExpress();
    auto w = o.getWeights();
    for (uint32_t i = 0; i < w.size(); i++)
        sum += w[i];
    return sum;
}

static uint64_t read_call(const void *buf, size_t len)
{
    capnp::FlatArrayMessageReader m(words(buf, len));
    auto c = m.getRoot<Call>();
    return c.getOffset() + c.getLength() + c.getFlags() + c.getSync() + text_sum(c.getName());
}

// Not inlined: callgrind counts inside it (--toggle-collect=cpp_loop).
__attribute__((noinline)) static uint64_t cpp_loop(int which, long n, const void *in, size_t len)
{
    return bench_loop_(which, n, in, len);
}

extern "C" const struct bench_impl bench_cpp = {"C++", cpp_loop, frame};
