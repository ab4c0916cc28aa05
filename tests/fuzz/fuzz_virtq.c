/*
 * libFuzzer target for the split virtqueue bookkeeping
 * (lib/virtio/virtq.c). The input scripts a device: each 9-byte step
 * either has the driver post a buffer, or writes a used-ring entry and a
 * used.idx of the fuzzer's choosing, after which the driver pops. Checked:
 * only buffers in flight ever come back, each at most once, with a length
 * no larger than was posted, and the in-flight count matches the bitmap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtq.h"

#define QSIZE 16

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static struct virtq q;
static struct virtq_desc desc[QSIZE];
static uint16_t avail[3 + QSIZE];
static uint16_t used[2 + 4 * QSIZE + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CHECK(virtq_init(&q, QSIZE, desc, avail, used));
    bool mine[QSIZE] = {false};
    uint32_t posted_len[QSIZE] = {0};
    for (size_t off = 0; off + 9 <= size; off += 9) {
        const uint8_t *s = data + off;
        uint16_t id = s[1] % QSIZE;
        if (s[0] & 1) {
            uint32_t len = (uint32_t)s[2] << 4;
            bool ok = virtq_post(&q, id, 0x1000u * id, len, s[0] & 2);
            CHECK(ok == (!q.broken && !mine[id]));
            if (ok) {
                mine[id] = true;
                posted_len[id] = len;
            }
            continue;
        }
        uint32_t *ring = (uint32_t *)(used + 2);
        uint16_t slot = s[2] % QSIZE;
        ring[2 * slot] = (uint32_t)s[3] | (uint32_t)s[4] << 8;
        ring[2 * slot + 1] = (uint32_t)s[5] | (uint32_t)s[6] << 8 | (uint32_t)s[7] << 16;
        used[1] = (uint16_t)(used[1] + (s[8] % 4 == 3 ? s[8] : s[8] % 4));
        for (int n = 0; n < 4; n++) {
            uint16_t got;
            uint32_t len;
            enum virtq_pop r = virtq_pop(&q, &got, &len);
            if (r == VIRTQ_GOT || r == VIRTQ_BAD_LEN) {
                CHECK(got < QSIZE && mine[got]);
                mine[got] = false;
                if (r == VIRTQ_GOT)
                    CHECK(len <= posted_len[got]);
            }
            if (r == VIRTQ_EMPTY || r == VIRTQ_BROKEN)
                break;
        }
        unsigned count = 0;
        for (int i = 0; i < QSIZE; i++) {
            CHECK(virtq_busy(&q, (uint16_t)i) == mine[i]);
            count += mine[i];
        }
        CHECK(count == q.in_flight);
    }
    return 0;
}
