/*
 * NetworkInterface: raw Ethernet frames through the kernel's virtio-net
 * driver (kernel/virtio_net.c, docs/devices.md).
 *
 * A singleton, granted by the manifest (kernel source "network") to the
 * one service that should speak to the network. Frames go in and come out
 * as copies; nothing of the device (addresses, descriptors, registers)
 * reaches the holder.
 *
 * receive() waits like Timer.sleep: when no frame is there, its completion
 * is deferred and the caller goes on with other work. The driver polls:
 * while anyone waits, the timer is armed every poll period (1 ms, shorter
 * while frames keep coming: POLL_MIN_NS) and the tick hook
 * hands arrived frames to waiters in the order they asked. Waiters are
 * charged to their caller's account and capped at MAX_WAITERS.
 * receiveMany() is the same with every frame waiting in one answer (up to
 * what the caller's result buffer holds): frames are copied once, from
 * the driver's bounce buffers straight into the results.
 *
 * Everything runs with interrupts off on one CPU (system calls and the
 * tick alike), so there is no locking.
 */
#include <arch/platform.h>
#include <capos/errors.h>

#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "process.h"
#include "registry.h"
#include "sched.h"
#include "virtio_net.h"

/* The poll period: POLL_MAX_NS while the device is quiet, down to
 * POLL_MIN_NS while frames keep coming (a poll that found some halves it,
 * one that found none doubles it), so that a bulk transfer is not held to
 * one burst per millisecond and an idle link costs no more than before. */
#define POLL_MAX_NS 1000000 /* 1 ms */
#define POLL_MIN_NS 125000
static uint64_t poll_ns = POLL_MAX_NS;
#define MAX_WAITERS 8
#define BATCH_MAX   16 /* frames in one receiveMany answer */

struct waiter {
    struct pending_call call; /* first: the abandon hook gets this pointer */
    struct waiter *next;
    uint32_t batch; /* receiveMany: frames its answer may hold; 0: receive */
};

/* Frames lent by the driver for one receiveMany answer. */
struct batch {
    struct vnet_rx_frame f[BATCH_MAX];
    uint32_t n;
};

static struct waiter *waiters; /* FIFO */
static uint64_t next_poll_ns = UINT64_MAX;
static uint8_t frame_buf[VNET_MAX_MTU + VNET_ETH_HEADER];

struct frame {
    const uint8_t *data;
    uint32_t len;
};

static uint32_t count_waiters(void)
{
    uint32_t n = 0;
    for (struct waiter *w = waiters; w; w = w->next)
        n++;
    return n;
}

static void waiter_remove(struct waiter *w)
{
    for (struct waiter **pp = &waiters; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    if (!waiters)
        next_poll_ns = UINT64_MAX;
}

static void waiter_abandon(struct pending_call *pc, struct process *caller)
{
    struct waiter *w = (struct waiter *)pc;
    waiter_remove(w);
    kfree(w);
}

static int no_device(struct kcall *kc)
{
    return kcall_fail(kc, CapException_Type_failed,
                      "network: no working virtio-net device (none found at boot, or it was "
                      "given up after misbehaving)");
}

static int net_send(void *self, NetworkInterface_send_Params_r params,
                    NetworkInterface_send_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct capn_data f = NetworkInterface_send_Params_get_frame(params);
    if (f.len == 0)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "send: empty frame; expected an Ethernet frame of 14 to MTU+14 bytes");
    switch (vnet_send(f.ptr, f.len)) {
    case VNET_OK:
        return CAPNPC_OK;
    case VNET_BAD_LENGTH:
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          f.len < VNET_ETH_HEADER
                              ? "send: frame shorter than an Ethernet header (14 bytes)"
                              : "send: frame longer than the MTU plus the 14-byte Ethernet header");
    case VNET_QUEUE_FULL:
        return kcall_fail(kc, CapException_Type_overloaded,
                          "send: every transmit buffer is in flight; try again");
    default:
        return no_device(kc);
    }
}

/*
 * How many full-size frames a receiveMany answer may hold for a result
 * buffer of cap bytes (as the schema says: 24 bytes for the frame table,
 * the root pointer and the results struct, then each frame's list pointer
 * and bytes); never more than the kernel's results arena or BATCH_MAX. 0:
 * not even one.
 */
static uint32_t batch_limit(uint32_t cap)
{
    uint32_t frame = vnet_frame_max();
    if (cap > KCALL_RESULT_ARENA + 8)
        cap = KCALL_RESULT_ARENA + 8;
    if (frame == 0 || cap < 24)
        return 0;
    uint32_t n = (cap - 24) / (8 + (frame + 7) / 8 * 8);
    return n < BATCH_MAX ? n : BATCH_MAX;
}

/* Take up to max frames (at least one waiting, else 0 and *st says why). */
static void batch_take(struct batch *b, uint32_t max, enum vnet_status *st)
{
    b->n = 0;
    *st = VNET_OK;
    while (b->n < max && (*st = vnet_rx_take(&b->f[b->n])) == VNET_OK)
        b->n++;
}

/* The answer: the lent frames copied into a list, then given back. */
static bool batch_build(struct batch *bt, NetworkInterface_receiveMany_Results_b res)
{
    List_Data_b l = NetworkInterface_receiveMany_Results_init_frames(res, bt->n);
    bool ok = List_Data_blen(l) == bt->n;
    for (uint32_t i = 0; ok && i < bt->n; i++)
        ok = List_Data_set(l, i, bt->f[i].data, bt->f[i].len);
    vnet_rx_give_back(bt->f, bt->n);
    bt->n = 0;
    return ok;
}

static void build_frames(struct capn_bld *b, void *arg)
{
    batch_build(arg, NetworkInterface_receiveMany_Results_build_root(b));
}

static void build_frame(struct capn_bld *b, void *arg)
{
    const struct frame *f = arg;
    NetworkInterface_receive_Results_b res = NetworkInterface_receive_Results_build_root(b);
    NetworkInterface_receive_Results_set_frame(res, f->data, f->len);
}

/* No frame now: the call waits, behind every earlier waiter. */
static int wait_for_frames(struct kcall *kc, uint32_t batch)
{
    if (count_waiters() >= MAX_WAITERS)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "receive: 8 receives are already waiting");
    struct waiter *w = kzalloc_in(kc->caller->account, sizeof(*w));
    if (!w)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "receive: your frame quota cannot pay for another waiter");
    w->call.abandon = waiter_abandon;
    w->batch = batch;
    struct waiter **pp = &waiters;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    if (next_poll_ns == UINT64_MAX) {
        next_poll_ns = arch_clock_ns() + poll_ns;
        sched_deadline_added(next_poll_ns);
    }
    return kcall_defer(kc, &w->call);
}

static int net_receive(void *self, NetworkInterface_receive_Params_r params,
                       NetworkInterface_receive_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    uint32_t len;
    /* Earlier waiters are served first: only take a frame now if nobody
     * is ahead in the queue. */
    if (!waiters) {
        enum vnet_status st = vnet_receive(frame_buf, &len);
        if (st == VNET_OK) {
            if (!NetworkInterface_receive_Results_set_frame(results, frame_buf, len))
                return kcall_fail(kc, CapException_Type_overloaded, "no room for the result");
            return CAPNPC_OK;
        }
        if (st == VNET_NO_DEVICE)
            return no_device(kc);
    }
    return wait_for_frames(kc, 0);
}

static int net_receive_many(void *self, NetworkInterface_receiveMany_Params_r params,
                            NetworkInterface_receiveMany_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    if (!vnet_present())
        return no_device(kc);
    uint32_t max = batch_limit(kc->sqe->result_len);
    if (max == 0)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "receiveMany: the result buffer cannot hold one full-size frame "
                          "(24 bytes, then 8 + MTU + 14 rounded up to 8)");
    if (!waiters) {
        struct batch b;
        enum vnet_status st;
        batch_take(&b, max, &st);
        if (b.n > 0)
            return batch_build(&b, results)
                       ? CAPNPC_OK
                       : kcall_fail(kc, CapException_Type_overloaded, "no room for the result");
        if (st == VNET_NO_DEVICE)
            return no_device(kc);
    }
    return wait_for_frames(kc, max);
}

static int net_info(void *self, NetworkInterface_info_Params_r params,
                    NetworkInterface_info_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct vnet_info in;
    if (!vnet_get_info(&in))
        return no_device(kc);
    NetworkInfo_b i = NetworkInterface_info_Results_init_info(results);
    if (!NetworkInfo_set_mac(i, in.mac, sizeof(in.mac)))
        return kcall_fail(kc, CapException_Type_overloaded, "no room for the result");
    NetworkInfo_set_mtu(i, in.mtu);
    NetworkInfo_set_linkUp(i, in.link_up);
    NetworkInfo_set_txFrames(i, in.stats.tx_frames);
    NetworkInfo_set_txBytes(i, in.stats.tx_bytes);
    NetworkInfo_set_rxFrames(i, in.stats.rx_frames);
    NetworkInfo_set_rxBytes(i, in.stats.rx_bytes);
    NetworkInfo_set_rxDropped(i, in.stats.rx_dropped);
    NetworkInfo_set_deviceErrors(i, in.stats.device_errors);
    return CAPNPC_OK;
}

/* Timer interrupt: hand what arrived to the waiters, oldest first. */
static void net_tick(uint64_t now_ns)
{
    if (!waiters || now_ns < next_poll_ns)
        return;
    bool delivered = false;
    while (waiters) {
        uint32_t len = 0;
        struct waiter *w = waiters;
        static struct batch b; /* lent frames; given back before the tick ends */
        enum vnet_status st;
        if (w->batch)
            batch_take(&b, w->batch, &st);
        else
            st = vnet_receive(frame_buf, &len);
        if (st == VNET_EMPTY && (!w->batch || b.n == 0))
            break;
        waiters = w->next;
        delivered = true;
        if (w->batch && b.n > 0) {
            pending_call_complete_with(&w->call, build_frames, &b);
            vnet_rx_give_back(b.f, b.n); /* none left, unless the answer was not built */
            b.n = 0;
        } else if (st == VNET_OK) {
            struct frame f = {frame_buf, len};
            pending_call_complete_with(&w->call, build_frame, &f);
        } else {
            /* The device was given up: nobody will get a frame. */
            pending_call_complete(&w->call, CAPOS_E_DISCONNECTED);
        }
        kfree(w);
    }
    poll_ns = delivered ? (poll_ns / 2 > POLL_MIN_NS ? poll_ns / 2 : POLL_MIN_NS)
                        : (poll_ns * 2 < POLL_MAX_NS ? poll_ns * 2 : POLL_MAX_NS);
    next_poll_ns = waiters ? now_ns + poll_ns : UINT64_MAX;
}

static uint64_t net_next_deadline(void)
{
    return next_poll_ns;
}

static const struct NetworkInterface_ops net_ops = {
    .send = net_send,
    .receive = net_receive,
    .info = net_info,
    .receiveMany = net_receive_many,
};

KOBJECT_TYPE(network_type, NetworkInterface, net_ops);

KOBJECT_SINGLETON(network_interface, network, NetworkInterface, network_type, .tick = net_tick,
                  .next_deadline = net_next_deadline);
