/*
 * virtio-net driver (virtio_net.h).
 *
 * Set-up follows virtio 1.2, 3.1.1: reset, ACKNOWLEDGE, DRIVER, features
 * (VERSION_1 required; MAC, STATUS and MTU taken when offered, nothing
 * else: no offloads, no mergeable buffers, no control queue), FEATURES_OK
 * read back, queues, DRIVER_OK. Any step the device gets wrong sets
 * FAILED and the driver gives the device up.
 *
 * Bounce buffers: each queue has QSIZE buffers of 2 KiB in kernel frames,
 * one descriptor each, whose index never changes. A frame to send is
 * copied into a free transmit buffer behind a zeroed 12-byte virtio-net
 * header; a received frame is copied out of its receive buffer and the
 * buffer goes straight back to the device. So the device only ever holds
 * addresses of kernel frames, a process never holds anything the device
 * can write, and the device cannot change a frame after it was checked.
 *
 * What the device says is checked: the used rings through lib/virtio/virtq
 * (indices, ids, lengths; counted in device_errors), the notify offset
 * against the notify structure, queue sizes, and received lengths against
 * the header and the MTU (counted in rx_dropped). A queue whose device
 * lied about its used index is dead; the driver then reports no device.
 */
#include "virtio_net.h"

#include <arch/paging.h>

#include "account.h"
#include "kprintf.h"
#include "mmio.h"
#include "pci.h"
#include "string.h"
#include "virtio/virtq.h"

#define VIRTIO_NET_MODERN_ID 0x1041 /* 0x1040 + device type 1 */

/* Device status bits (virtio 1.2, 2.1). */
#define S_ACKNOWLEDGE 1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_FAILED      128

/* Feature bits. */
#define F_NET_MTU    3
#define F_NET_MAC    5
#define F_NET_STATUS 16
#define F_VERSION_1  32

/* struct virtio_pci_common_cfg (virtio 1.2, 4.1.4.3). */
#define C_DEVICE_FEATURE_SELECT 0x00
#define C_DEVICE_FEATURE        0x04
#define C_DRIVER_FEATURE_SELECT 0x08
#define C_DRIVER_FEATURE        0x0c
#define C_NUM_QUEUES            0x12
#define C_DEVICE_STATUS         0x14
#define C_CONFIG_GENERATION     0x15
#define C_QUEUE_SELECT          0x16
#define C_QUEUE_SIZE            0x18
#define C_QUEUE_MSIX_VECTOR     0x1a
#define C_QUEUE_ENABLE          0x1c
#define C_QUEUE_NOTIFY_OFF      0x1e
#define C_QUEUE_DESC            0x20
#define C_QUEUE_DRIVER          0x28
#define C_QUEUE_DEVICE          0x30

/* struct virtio_net_config. */
#define N_MAC     0
#define N_STATUS  6
#define N_MTU     10
#define N_LINK_UP 1

#define RX_QUEUE  0
#define TX_QUEUE  1
#define QSIZE     32   /* entries used per queue, if the device allows */
#define BUF_SIZE  2048 /* one bounce buffer */
#define NET_HDR   12   /* struct virtio_net_hdr with num_buffers (VERSION_1) */
#define NO_VECTOR 0xffff

struct queue {
    struct virtq q;
    uint64_t buf_pa[QSIZE]; /* bounce buffer i is descriptor i */
    volatile uint16_t *notify;
};

static struct {
    bool up;
    volatile uint8_t *common, *device_cfg, *notify_base;
    uint32_t device_cfg_len, notify_len, notify_mul;
    uint64_t features;
    uint8_t mac[6];
    uint16_t mtu;
    uint16_t qsize;
    struct queue rx, tx;
    struct vnet_stats stats;
} net;

/* ---- Register access ---- */

static uint8_t rd8(uint32_t off)
{
    return net.common[off];
}

static uint16_t rd16(uint32_t off)
{
    return *(volatile uint16_t *)(net.common + off);
}

static uint32_t rd32(uint32_t off)
{
    return *(volatile uint32_t *)(net.common + off);
}

static void wr8(uint32_t off, uint8_t v)
{
    net.common[off] = v;
}

static void wr16(uint32_t off, uint16_t v)
{
    *(volatile uint16_t *)(net.common + off) = v;
}

static void wr32(uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(net.common + off) = v;
}

static void wr64(uint32_t off, uint64_t v)
{
    wr32(off, (uint32_t)v);
    wr32(off + 4, (uint32_t)(v >> 32));
}

static bool vnet_link_up_now(void);

/* Give the device up: a reset stops it from touching the queues (and so
 * our frames) again, FAILED tells it why. */
static bool fail(const char *why)
{
    if (net.common) {
        wr8(C_DEVICE_STATUS, 0);
        wr8(C_DEVICE_STATUS, S_FAILED);
    }
    kprintf("virtio-net: device given up: %s\n", why);
    net.up = false;
    return false;
}

/* ---- Set-up ---- */

static volatile uint8_t *map_region(const struct pci_device *d, enum pci_virtio_cfg type,
                                    uint32_t *len)
{
    const struct pci_virtio_region *r = &d->virtio.region[type];
    if (!r->present)
        return 0;
    *len = r->length;
    /* lib/pci checked the region lies inside its BAR. */
    return mmio_map(d->bars[r->bar].base + r->offset, r->length ? r->length : 1);
}

static bool alloc_frame(uint64_t *pa)
{
    return account_frame_alloc(account_kernel(), FL_HEAP, pa);
}

static bool setup_queue(uint16_t index, struct queue *qu, bool device_writes)
{
    wr16(C_QUEUE_SELECT, index);
    uint16_t max = rd16(C_QUEUE_SIZE);
    if (max == 0)
        return fail("a queue we need does not exist (size 0)");
    uint16_t size = max < QSIZE ? max : QSIZE;
    if ((size & (size - 1)) != 0)
        return fail("queue size is not a power of two");
    if (net.qsize && net.qsize != size)
        return fail("receive and transmit queues differ in size");
    net.qsize = size;
    uint64_t desc, avail, used;
    if (!alloc_frame(&desc) || !alloc_frame(&avail) || !alloc_frame(&used))
        return fail("out of memory for virtqueues");
    if (!virtq_init(&qu->q, size, phys_to_virt(desc), phys_to_virt(avail), phys_to_virt(used)))
        return fail("virtqueue set-up refused");
    for (uint16_t i = 0; i < size; i += PAGE_SIZE / BUF_SIZE) {
        uint64_t pa;
        if (!alloc_frame(&pa))
            return fail("out of memory for bounce buffers");
        for (uint16_t j = 0; j < PAGE_SIZE / BUF_SIZE && i + j < size; j++)
            qu->buf_pa[i + j] = pa + (uint64_t)j * BUF_SIZE;
    }
    /* Where to ring for this queue: inside the notify structure. */
    uint64_t noff = (uint64_t)rd16(C_QUEUE_NOTIFY_OFF) * net.notify_mul;
    if (noff > net.notify_len || net.notify_len - noff < 2)
        return fail("queue notify offset lies outside the notify structure");
    qu->notify = (volatile uint16_t *)(net.notify_base + noff);
    wr16(C_QUEUE_SIZE, size);
    wr16(C_QUEUE_MSIX_VECTOR, NO_VECTOR);
    wr64(C_QUEUE_DESC, desc);
    wr64(C_QUEUE_DRIVER, avail);
    wr64(C_QUEUE_DEVICE, used);
    wr16(C_QUEUE_ENABLE, 1);
    if (device_writes)
        for (uint16_t i = 0; i < size; i++)
            virtq_post(&qu->q, i, qu->buf_pa[i], BUF_SIZE, true);
    return true;
}

static void kick(struct queue *qu, uint16_t index)
{
    /* The rings are in ordinary memory, the doorbell is uncached MMIO:
     * make every ring store visible first. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    *qu->notify = index;
}

static bool negotiate(void)
{
    wr32(C_DEVICE_FEATURE_SELECT, 0);
    uint64_t offered = rd32(C_DEVICE_FEATURE);
    wr32(C_DEVICE_FEATURE_SELECT, 1);
    offered |= (uint64_t)rd32(C_DEVICE_FEATURE) << 32;
    if (!(offered >> F_VERSION_1 & 1))
        return fail("the device does not offer VIRTIO_F_VERSION_1 (a legacy-only device)");
    uint64_t want =
        1ull << F_VERSION_1 | 1ull << F_NET_MAC | 1ull << F_NET_STATUS | 1ull << F_NET_MTU;
    net.features = offered & want;
    wr32(C_DRIVER_FEATURE_SELECT, 0);
    wr32(C_DRIVER_FEATURE, (uint32_t)net.features);
    wr32(C_DRIVER_FEATURE_SELECT, 1);
    wr32(C_DRIVER_FEATURE, (uint32_t)(net.features >> 32));
    wr8(C_DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    if (!(rd8(C_DEVICE_STATUS) & S_FEATURES_OK))
        return fail("the device refused the features we accepted");
    return true;
}

/* The fields of the device-specific structure we use, read until the
 * configuration generation holds still (virtio 1.2, 4.1.4.3.1). */
static bool read_config(void)
{
    uint32_t need = (net.features >> F_NET_MTU & 1) ? N_MTU + 2 : N_STATUS + 2;
    if (!net.device_cfg || net.device_cfg_len < need)
        return fail("the device-specific configuration is missing or too short");
    for (int tries = 0;; tries++) {
        if (tries == 8)
            return fail("the configuration generation never held still");
        uint8_t gen = rd8(C_CONFIG_GENERATION);
        for (int i = 0; i < 6; i++)
            net.mac[i] = net.device_cfg[N_MAC + i];
        net.mtu = 1500;
        if (net.features >> F_NET_MTU & 1)
            net.mtu = *(volatile uint16_t *)(net.device_cfg + N_MTU);
        if (rd8(C_CONFIG_GENERATION) == gen)
            break;
    }
    if (!(net.features >> F_NET_MAC & 1))
        return fail("the device has no MAC address (VIRTIO_NET_F_MAC)");
    /* The MTU is the device's advice; we keep to what a buffer holds. */
    if (net.mtu < 68)
        return fail("the device's MTU is below IPv4's minimum of 68");
    if (net.mtu > VNET_MAX_MTU)
        net.mtu = VNET_MAX_MTU;
    return true;
}

void vnet_init(void)
{
    const struct pci_function *f = pci_find(PCI_VENDOR_VIRTIO, VIRTIO_NET_MODERN_ID);
    if (!f || !f->info.virtio.modern) {
        kprintf("virtio-net: no modern virtio-net device\n");
        return;
    }
    const struct pci_device *d = &f->info;
    for (int t = PCI_VIRTIO_COMMON; t <= PCI_VIRTIO_DEVICE; t++) {
        const struct pci_virtio_region *r = &d->virtio.region[t];
        const char *why = r->present ? pci_bar_refusal(&d->bars[r->bar]) : 0;
        if (why) {
            kprintf("virtio-net: device given up: BAR %u cannot be mapped: %s\n", r->bar, why);
            return;
        }
    }
    uint32_t common_len;
    net.common = map_region(d, PCI_VIRTIO_COMMON, &common_len);
    net.notify_base = map_region(d, PCI_VIRTIO_NOTIFY, &net.notify_len);
    net.device_cfg = map_region(d, PCI_VIRTIO_DEVICE, &net.device_cfg_len);
    net.notify_mul = d->virtio.notify_off_multiplier;
    if (!net.common || !net.notify_base) {
        fail("its registers could not be mapped");
        return;
    }
    /* Memory decoding and bus mastering on; INTx off: we poll. */
    pci_enable(f, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_OFF);

    wr8(C_DEVICE_STATUS, 0);
    for (int i = 0; rd8(C_DEVICE_STATUS) != 0; i++)
        if (i == 1000000) {
            fail("it did not finish resetting");
            return;
        }
    wr8(C_DEVICE_STATUS, S_ACKNOWLEDGE);
    wr8(C_DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER);
    if (!negotiate() || !read_config())
        return;
    if (rd16(C_NUM_QUEUES) < 2) {
        fail("fewer than two queues");
        return;
    }
    if (!setup_queue(RX_QUEUE, &net.rx, true) || !setup_queue(TX_QUEUE, &net.tx, false))
        return;
    wr8(C_DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    if (rd8(C_DEVICE_STATUS) & S_FAILED) {
        fail("the device reported a failure when started");
        return;
    }
    net.up = true;
    kick(&net.rx, RX_QUEUE);
    kprintf("virtio-net: %02x:%02x.%u MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u, %u-entry "
            "queues, link %s\n",
            f->bus, f->dev, f->fn, net.mac[0], net.mac[1], net.mac[2], net.mac[3], net.mac[4],
            net.mac[5], net.mtu, net.qsize, vnet_link_up_now() ? "up" : "down");
}

/* ---- Data path ---- */

bool vnet_present(void)
{
    return net.up;
}

uint32_t vnet_frame_max(void)
{
    return net.up ? (uint32_t)net.mtu + VNET_ETH_HEADER : 0;
}

static void check_broken(void)
{
    if (net.up && (net.rx.q.broken || net.tx.q.broken))
        fail("its used ring index ran ahead of the buffers it held");
}

static void count_errors(void)
{
    net.stats.device_errors = net.rx.q.bad_index + net.rx.q.bad_id + net.rx.q.bad_len +
                              net.tx.q.bad_index + net.tx.q.bad_id + net.tx.q.bad_len;
}

/* Take back every transmit buffer the device is done with. */
static void reclaim_tx(void)
{
    for (;;) {
        uint16_t id;
        uint32_t len;
        enum virtq_pop r = virtq_pop(&net.tx.q, &id, &len);
        if (r == VIRTQ_EMPTY || r == VIRTQ_BROKEN)
            break;
    }
    count_errors();
    check_broken();
}

enum vnet_status vnet_send(const uint8_t *frame, uint32_t len)
{
    if (!net.up)
        return VNET_NO_DEVICE;
    if (len < VNET_ETH_HEADER || len > (uint32_t)net.mtu + VNET_ETH_HEADER)
        return VNET_BAD_LENGTH;
    reclaim_tx();
    if (!net.up)
        return VNET_NO_DEVICE;
    for (uint16_t id = 0; id < net.qsize; id++) {
        if (virtq_busy(&net.tx.q, id))
            continue;
        uint8_t *buf = phys_to_virt(net.tx.buf_pa[id]);
        memset(buf, 0, NET_HDR);
        memcpy(buf + NET_HDR, frame, len);
        virtq_post(&net.tx.q, id, net.tx.buf_pa[id], NET_HDR + len, false);
        kick(&net.tx, TX_QUEUE);
        net.stats.tx_frames++;
        net.stats.tx_bytes += len;
        return VNET_OK;
    }
    return VNET_QUEUE_FULL;
}

enum vnet_status vnet_rx_take(struct vnet_rx_frame *f)
{
    if (!net.up)
        return VNET_NO_DEVICE;
    for (;;) {
        uint16_t id;
        uint32_t len;
        enum virtq_pop r = virtq_pop(&net.rx.q, &id, &len);
        count_errors();
        if (r == VIRTQ_EMPTY)
            return VNET_EMPTY;
        if (r == VIRTQ_BROKEN) {
            check_broken();
            return VNET_NO_DEVICE;
        }
        if (r == VIRTQ_SKIPPED)
            continue;
        if (r == VIRTQ_GOT && len >= NET_HDR + VNET_ETH_HEADER &&
            len - NET_HDR <= (uint32_t)net.mtu + VNET_ETH_HEADER) {
            f->data = (const uint8_t *)phys_to_virt(net.rx.buf_pa[id]) + NET_HDR;
            f->len = len - NET_HDR;
            f->id = id;
            net.stats.rx_frames++;
            net.stats.rx_bytes += f->len;
            return VNET_OK;
        }
        if (r == VIRTQ_GOT)
            net.stats.rx_dropped++;
        /* A bad frame's buffer goes straight back; it was just taken, so
         * it is free to post. */
        virtq_post(&net.rx.q, id, net.rx.buf_pa[id], BUF_SIZE, true);
        kick(&net.rx, RX_QUEUE);
    }
}

void vnet_rx_give_back(const struct vnet_rx_frame *f, uint32_t n)
{
    if (n == 0)
        return;
    /* Taken by vnet_rx_take and not posted since: free to post, unless
     * the device was given up meanwhile (virtq_post then refuses). */
    for (uint32_t i = 0; i < n; i++)
        virtq_post(&net.rx.q, f[i].id, net.rx.buf_pa[f[i].id], BUF_SIZE, true);
    kick(&net.rx, RX_QUEUE); /* one doorbell for the lot */
}

enum vnet_status vnet_receive(uint8_t *out, uint32_t *out_len)
{
    struct vnet_rx_frame f;
    enum vnet_status st = vnet_rx_take(&f);
    if (st != VNET_OK)
        return st;
    memcpy(out, f.data, f.len);
    *out_len = f.len;
    vnet_rx_give_back(&f, 1);
    return VNET_OK;
}

static bool vnet_link_up_now(void)
{
    if (!net.device_cfg)
        return false;
    if (!(net.features >> F_NET_STATUS & 1))
        return true; /* without the feature the link is assumed up */
    return *(volatile uint16_t *)(net.device_cfg + N_STATUS) & N_LINK_UP;
}

bool vnet_get_info(struct vnet_info *out)
{
    memset(out, 0, sizeof(*out));
    /* Also the moment to take back sent buffers, and so to notice a
     * device that lies about them. */
    if (net.up)
        reclaim_tx();
    if (!net.up)
        return false;
    memcpy(out->mac, net.mac, 6);
    out->mtu = net.mtu;
    out->link_up = vnet_link_up_now();
    out->stats = net.stats;
    return true;
}

void vnet_inject_bad_used_index(void)
{
    if (!net.up)
        return;
    /* What a broken device would write: a used index claiming far more
     * completions than there are buffers in flight. */
    net.tx.q.used[1] = (uint16_t)(net.tx.q.last_used + 100);
    kprintf("virtio-net: test: transmit used index set 100 ahead\n");
}
