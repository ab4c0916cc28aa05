/*
 * Host tests for the split virtqueue bookkeeping (lib/virtio/virtq.c): the
 * test plays the device, writing the used ring by hand, honestly and not.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "virtio/virtq.h"

#define QSIZE 8

static struct virtq q;
static struct virtq_desc desc[QSIZE];
static uint16_t avail[3 + QSIZE];
static uint16_t used[2 + 4 * QSIZE + 1];

static void setup(void)
{
    cr_assert(virtq_init(&q, QSIZE, desc, avail, used));
}

/* The device returns buffer id with len bytes written. */
static void device_return(uint32_t id, uint32_t len)
{
    uint16_t idx = used[1];
    uint32_t *ring = (uint32_t *)(used + 2);
    ring[2 * (idx % QSIZE)] = id;
    ring[2 * (idx % QSIZE) + 1] = len;
    used[1] = (uint16_t)(idx + 1);
}

Test(virtq, init_refuses_bad_sizes)
{
    cr_assert(!virtq_init(&q, 0, desc, avail, used));
    cr_assert(!virtq_init(&q, 6, desc, avail, used), "not a power of two");
    cr_assert(!virtq_init(&q, 512, desc, avail, used), "above VIRTQ_MAX_SIZE");
    cr_assert(!virtq_init(&q, 8, NULL, avail, used));
}

Test(virtq, post_and_pop_honest_device)
{
    setup();
    cr_assert(virtq_post(&q, 3, 0x10000, 2048, true));
    cr_assert_eq(desc[3].addr, 0x10000);
    cr_assert_eq(desc[3].len, 2048);
    cr_assert_eq(desc[3].flags, VIRTQ_DESC_F_WRITE);
    cr_assert_eq(avail[1], 1, "avail.idx published");
    cr_assert_eq(avail[2], 3, "the slot names descriptor 3");
    cr_assert(!virtq_post(&q, 3, 0x10000, 2048, true), "already in flight");
    cr_assert(!virtq_post(&q, QSIZE, 0x10000, 2048, true), "id out of range");
    uint16_t id;
    uint32_t len;
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_EMPTY);
    device_return(3, 60);
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_GOT);
    cr_assert_eq(id, 3);
    cr_assert_eq(len, 60);
    cr_assert(!virtq_busy(&q, 3));
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_EMPTY);
    /* Indices wrap at 2^16 without confusion. */
    for (unsigned i = 0; i < 70000; i++) {
        cr_assert(virtq_post(&q, (uint16_t)(i % QSIZE), 0x1000, 64, false));
        device_return(i % QSIZE, 0);
        cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_GOT);
    }
    cr_assert_eq(q.bad_index + q.bad_id + q.bad_len, 0);
}

Test(virtq, used_index_running_ahead_breaks_the_queue)
{
    setup();
    cr_assert(virtq_post(&q, 0, 0x1000, 64, true));
    used[1] = 2; /* two entries for one buffer in flight */
    uint16_t id;
    uint32_t len;
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_BROKEN);
    cr_assert_eq(q.bad_index, 1);
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_BROKEN, "stays broken");
    cr_assert(!virtq_post(&q, 1, 0x1000, 64, true), "no more posting to a broken queue");
    setup();
    used[1] = 0xffff; /* wildly behind or ahead: far more than in flight */
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_BROKEN);
}

Test(virtq, bad_ids_are_skipped_and_counted)
{
    setup();
    cr_assert(virtq_post(&q, 1, 0x1000, 64, true));
    cr_assert(virtq_post(&q, 2, 0x2000, 64, true));
    uint16_t id = 0xeeee;
    uint32_t len;
    device_return(QSIZE + 5, 10); /* out of range */
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_SKIPPED);
    cr_assert_eq(id, 0xeeee, "nothing handed back");
    device_return(4, 10); /* in range, never posted */
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_SKIPPED);
    cr_assert_eq(q.bad_id, 2);
    device_return(1, 10);
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_GOT);
    cr_assert_eq(id, 1);
    device_return(1, 10); /* the same buffer twice */
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_SKIPPED);
    cr_assert_eq(q.bad_id, 3);
    cr_assert(virtq_busy(&q, 2), "the honest buffer is still the device's");
}

Test(virtq, impossible_lengths_are_flagged)
{
    setup();
    cr_assert(virtq_post(&q, 0, 0x1000, 2048, true));
    device_return(0, 2049);
    uint16_t id;
    uint32_t len = 77;
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_BAD_LEN);
    cr_assert_eq(id, 0, "the buffer comes back to be reposted");
    cr_assert_eq(len, 0);
    cr_assert_eq(q.bad_len, 1);
    cr_assert(!virtq_busy(&q, 0));
    cr_assert(virtq_post(&q, 0, 0x1000, 2048, true));
    device_return(0, 0xffffffffu);
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_BAD_LEN);
}

Test(virtq, device_cannot_change_what_was_posted)
{
    setup();
    cr_assert(virtq_post(&q, 0, 0x1000, 64, true));
    desc[0].len = 100000; /* the device rewrites the descriptor */
    device_return(0, 4096);
    uint16_t id;
    uint32_t len;
    cr_assert_eq(virtq_pop(&q, &id, &len), VIRTQ_BAD_LEN,
                 "the length posted is remembered, not re-read");
}
