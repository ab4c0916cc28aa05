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
 * while anyone waits, the timer is armed every POLL_NS and the tick hook
 * hands arrived frames to waiters in the order they asked. Waiters are
 * charged to their caller's account and capped at MAX_WAITERS.
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

#define POLL_NS     1000000 /* 1 ms */
#define MAX_WAITERS 8

struct waiter {
    struct pending_call call; /* first: the abandon hook gets this pointer */
    struct waiter *next;
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

static void build_frame(struct capn_bld *b, void *arg)
{
    const struct frame *f = arg;
    NetworkInterface_receive_Results_b res = NetworkInterface_receive_Results_build_root(b);
    NetworkInterface_receive_Results_set_frame(res, f->data, f->len);
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
    if (count_waiters() >= MAX_WAITERS)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "receive: 8 receives are already waiting");
    struct waiter *w = kzalloc_in(kc->caller->account, sizeof(*w));
    if (!w)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "receive: your frame quota cannot pay for another waiter");
    w->call.abandon = waiter_abandon;
    struct waiter **pp = &waiters;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    if (next_poll_ns == UINT64_MAX) {
        next_poll_ns = arch_clock_ns() + POLL_NS;
        sched_deadline_added(next_poll_ns);
    }
    return kcall_defer(kc, &w->call);
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
    while (waiters) {
        uint32_t len;
        struct waiter *w = waiters;
        enum vnet_status st = vnet_receive(frame_buf, &len);
        if (st == VNET_EMPTY)
            break;
        waiters = w->next;
        if (st == VNET_OK) {
            struct frame f = {frame_buf, len};
            pending_call_complete_with(&w->call, build_frame, &f);
        } else {
            /* The device was given up: nobody will get a frame. */
            pending_call_complete(&w->call, CAPOS_E_DISCONNECTED);
        }
        kfree(w);
    }
    next_poll_ns = waiters ? now_ns + POLL_NS : UINT64_MAX;
}

static uint64_t net_next_deadline(void)
{
    return next_poll_ns;
}

static const struct NetworkInterface_ops net_ops = {
    .send = net_send,
    .receive = net_receive,
    .info = net_info,
};

KOBJECT_TYPE(network_type, NetworkInterface, net_ops);

KOBJECT_SINGLETON(network_interface, network, NetworkInterface, network_type, .tick = net_tick,
                  .next_deadline = net_next_deadline);
