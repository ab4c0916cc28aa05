/*
 * virtio-net driver (virtio 1.2, 5.1) over the modern PCI transport, by
 * polling. The kernel owns the device, its two virtqueues and their bounce
 * buffers; callers hand frames in and get copies out, and never see a
 * physical address, a descriptor or a register (docs/devices.md).
 */
#ifndef CAPOS_VIRTIO_NET_H
#define CAPOS_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#define VNET_ETH_HEADER 14
/* The most an MTU can be here: a frame plus the virtio-net header must fit
 * one 2 KiB bounce buffer. */
#define VNET_MAX_MTU 2000

struct vnet_stats {
    uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
    uint64_t rx_dropped;    /* frames too short or too long */
    uint64_t device_errors; /* used-ring entries refused (lib/virtio/virtq.h) */
};

struct vnet_info {
    uint8_t mac[6];
    uint16_t mtu;
    bool link_up;
    struct vnet_stats stats;
};

enum vnet_status {
    VNET_OK,
    VNET_NO_DEVICE, /* none found, or it failed (and was given up) */
    VNET_BAD_LENGTH,
    VNET_QUEUE_FULL, /* every transmit buffer is in flight */
    VNET_EMPTY,      /* nothing received */
};

/* Find the first modern virtio-net function (pci_init first), set it up
 * and log the outcome. Buffers are charged to the kernel's account. */
void vnet_init(void);

bool vnet_present(void);

/* The largest frame the device receives (MTU + 14); 0 without a device. */
uint32_t vnet_frame_max(void);

/* Queue a frame for sending: VNET_ETH_HEADER..mtu + VNET_ETH_HEADER bytes. */
enum vnet_status vnet_send(const uint8_t *frame, uint32_t len);

/* Copy the next good received frame into buf (VNET_MAX_MTU +
 * VNET_ETH_HEADER bytes); its bounce buffer goes back to the device. */
enum vnet_status vnet_receive(uint8_t *buf, uint32_t *len);

/* A received frame lent in place: data points into its bounce buffer,
 * which stays out of the device's hands until vnet_rx_give_back, so a
 * caller copies it once, straight to where it goes. Frames too short or
 * too long were dropped (and counted) before this. */
struct vnet_rx_frame {
    const uint8_t *data;
    uint32_t len;
    uint16_t id;
};

/* The next good received frame, lent. */
enum vnet_status vnet_rx_take(struct vnet_rx_frame *f);

/* Hand n lent frames' buffers back to the device (one doorbell). Every
 * frame taken must be given back, once, before the next system call
 * returns: the receive queue has no other buffers. */
void vnet_rx_give_back(const struct vnet_rx_frame *f, uint32_t n);

/* Fill *out; false (and zeros) without a working device. */
bool vnet_get_info(struct vnet_info *out);

/* Test kernels only (netfault=index): play a broken device that moves the
 * transmit queue's used index 100 entries ahead, which the driver must
 * notice at its next look and give the device up. */
void vnet_inject_bad_used_index(void);

#endif
