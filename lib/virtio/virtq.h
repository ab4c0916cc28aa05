/*
 * Split virtqueue bookkeeping (virtio 1.2, 2.7), as a driver that does not
 * trust its device keeps it.
 *
 * Pure, freestanding code: the three rings live in memory the device
 * writes, which the caller passes in; here we only decide what to believe.
 * Each buffer is one descriptor whose index is its identity, so the
 * driver knows the address and length behind every id it ever posted and
 * never reads either back from shared memory. What the device reports in
 * the used ring is checked before anything uses it:
 *
 *   - used.idx may run ahead of the last entry taken by at most the number
 *     of buffers in flight; more means the device is broken (the queue is
 *     marked so, and nothing more is taken from it until a reset);
 *   - an entry's id must name a descriptor that is in flight (not out of
 *     range, not already returned): otherwise the entry is skipped and
 *     counted;
 *   - an entry's length must not exceed the buffer posted under that id:
 *     otherwise the buffer is handed back to the driver flagged bad, to be
 *     reposted without being read, and counted.
 *
 * Each shared word is read once into a local before it is checked.
 */
#ifndef CAPOS_LIB_VIRTQ_H
#define CAPOS_LIB_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRTQ_MAX_SIZE 256 /* entries; a power of two */

#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2 /* the device writes the buffer (receive) */

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

/* Bytes each ring needs for `size` entries (without event suppression). */
#define VIRTQ_DESC_BYTES(size)  ((size_t)(size)*16)
#define VIRTQ_AVAIL_BYTES(size) (6 + (size_t)(size)*2)
#define VIRTQ_USED_BYTES(size)  (6 + (size_t)(size)*8)

struct virtq {
    uint16_t size;
    /* Shared with the device. */
    volatile struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
    volatile uint16_t *used;  /* flags, idx, then ring of struct virtq_used_elem */
    /* Ours only. */
    uint16_t avail_idx; /* next avail.idx to publish */
    uint16_t last_used; /* used.idx up to which entries were taken */
    uint16_t in_flight;
    bool broken;
    uint32_t buf_len[VIRTQ_MAX_SIZE];
    uint64_t busy[VIRTQ_MAX_SIZE / 64]; /* ids the device holds */
    /* Refused used-ring entries, by reason. */
    uint64_t bad_index, bad_id, bad_len;
};

enum virtq_pop {
    VIRTQ_EMPTY,   /* nothing new */
    VIRTQ_GOT,     /* *id, *len: a buffer back, len bytes written by the device */
    VIRTQ_BAD_LEN, /* *id: a buffer back whose reported length is impossible */
    VIRTQ_SKIPPED, /* an entry with a bad id was consumed; try again */
    VIRTQ_BROKEN,  /* the device lied about used.idx; the queue is dead */
};

/* size: a power of two, 1..VIRTQ_MAX_SIZE; the rings are zeroed here. */
bool virtq_init(struct virtq *q, uint16_t size, void *desc, void *avail, void *used);

/* Hand buffer `id` (addr, len) to the device; false if id is out of range
 * or already in flight, or the queue is broken. Publishes at once. */
bool virtq_post(struct virtq *q, uint16_t id, uint64_t addr, uint32_t len, bool device_writes);

/* Take the next used entry, checked (see above). */
enum virtq_pop virtq_pop(struct virtq *q, uint16_t *id, uint32_t *len);

/* Whether buffer id is in the device's hands. */
bool virtq_busy(const struct virtq *q, uint16_t id);

#endif
