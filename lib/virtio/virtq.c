/*
 * Split virtqueue bookkeeping (virtq.h).
 *
 * Ordering: the device must see a descriptor and its avail.ring slot
 * before the avail.idx that publishes them, and we must read used.idx
 * before the entries it covers. Release and acquire fences say so (on x86
 * they only keep the compiler from reordering); the caller adds the full
 * barrier its architecture needs before notifying the device.
 */
#include "virtio/virtq.h"

static void zero(volatile void *p, size_t n)
{
    volatile uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = 0;
}

bool virtq_init(struct virtq *q, uint16_t size, void *desc, void *avail, void *used)
{
    if (!q || !desc || !avail || !used || size == 0 || size > VIRTQ_MAX_SIZE ||
        (size & (size - 1)) != 0)
        return false;
    q->size = size;
    q->desc = desc;
    q->avail = avail;
    q->used = used;
    q->avail_idx = q->last_used = q->in_flight = 0;
    q->broken = false;
    q->bad_index = q->bad_id = q->bad_len = 0;
    for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++)
        q->buf_len[i] = 0;
    for (unsigned i = 0; i < VIRTQ_MAX_SIZE / 64; i++)
        q->busy[i] = 0;
    zero(desc, VIRTQ_DESC_BYTES(size));
    zero(avail, VIRTQ_AVAIL_BYTES(size));
    zero(used, VIRTQ_USED_BYTES(size));
    return true;
}

bool virtq_busy(const struct virtq *q, uint16_t id)
{
    return id < q->size && (q->busy[id / 64] >> (id % 64) & 1);
}

bool virtq_post(struct virtq *q, uint16_t id, uint64_t addr, uint32_t len, bool device_writes)
{
    if (q->broken || id >= q->size || virtq_busy(q, id))
        return false;
    volatile struct virtq_desc *d = &q->desc[id];
    d->addr = addr;
    d->len = len;
    d->flags = device_writes ? VIRTQ_DESC_F_WRITE : 0;
    d->next = 0;
    q->buf_len[id] = len;
    q->busy[id / 64] |= 1ull << (id % 64);
    q->in_flight++;
    q->avail[2 + (q->avail_idx & (q->size - 1))] = id;
    q->avail_idx++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    q->avail[1] = q->avail_idx;
    return true;
}

enum virtq_pop virtq_pop(struct virtq *q, uint16_t *id, uint32_t *len)
{
    if (q->broken)
        return VIRTQ_BROKEN;
    uint16_t used_idx = q->used[1];
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(used_idx - q->last_used);
    if (pending == 0)
        return VIRTQ_EMPTY;
    /* The device can only give back what it holds. */
    if (pending > q->in_flight) {
        q->bad_index++;
        q->broken = true;
        return VIRTQ_BROKEN;
    }
    volatile uint32_t *ring = (volatile uint32_t *)(q->used + 2);
    uint32_t slot = q->last_used & (q->size - 1);
    uint32_t eid = ring[2 * slot], elen = ring[2 * slot + 1];
    q->last_used++;
    if (eid >= q->size || !virtq_busy(q, (uint16_t)eid)) {
        q->bad_id++;
        return VIRTQ_SKIPPED;
    }
    q->busy[eid / 64] &= ~(1ull << (eid % 64));
    q->in_flight--;
    *id = (uint16_t)eid;
    if (elen > q->buf_len[eid]) {
        q->bad_len++;
        *len = 0;
        return VIRTQ_BAD_LEN;
    }
    *len = elen;
    return VIRTQ_GOT;
}
