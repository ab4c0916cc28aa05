/*
 * Physical frame bitmap allocator.
 *
 * Invariants (checked by the host tests and the mb2 fuzz target):
 *  - bit set = in use or reserved; bits past nframes in the last word are
 *    always set, so a word scan never has to mask the tail;
 *  - frame 0 is always set;
 *  - free_count is exactly the number of clear bits;
 *  - every frame below next_hint is set, so fb_alloc can start there and
 *    still return the lowest free frame. Allocation is therefore
 *    deterministic: lowest free frame, lowest aligned free run.
 *
 * Bit operations use __builtin_ctzll (an inline bsf/tzcnt) but not
 * __builtin_popcountll, which without -mpopcnt becomes a libgcc call the
 * kernel does not link.
 */
#include "kcore/frame_bitmap.h"

#define WORD_BITS 64u
#define PAGE_MASK ((uint64_t)FRAME_SIZE - 1)

static unsigned popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

static uint64_t nwords(uint64_t nframes)
{
    return nframes / WORD_BITS + (nframes % WORD_BITS != 0);
}

/* Set or clear the bits of *w under mask m; return how many changed. */
static uint64_t change_word(uint64_t *w, uint64_t m, bool set)
{
    uint64_t flip = (set ? ~*w : *w) & m;
    *w ^= flip;
    return popcount64(flip); /* branch-free: cheap natively and under fuzzing */
}

/*
 * Set (set=true) or clear bits [first, end), end <= nframes, and return how
 * many bits actually changed. Whole words in the middle go one at a time
 * with no masking: releasing 4 GiB of RAM is 16K iterations.
 */
static uint64_t change_range(struct frame_bitmap *fb, uint64_t first, uint64_t end, bool set)
{
    if (first >= end)
        return 0;
    uint64_t w = first / WORD_BITS, last = (end - 1) / WORD_BITS;
    uint64_t head = ~0ull << (first % WORD_BITS);
    uint64_t tail = ~0ull >> (WORD_BITS - 1 - (end - 1) % WORD_BITS);
    if (w == last)
        return change_word(&fb->bits[w], head & tail, set);
    uint64_t changed = change_word(&fb->bits[w], head, set);
    for (w++; w < last; w++)
        changed += change_word(&fb->bits[w], ~0ull, set);
    return changed + change_word(&fb->bits[last], tail, set);
}

/* First frame in [first, end) whose bit equals `set`, or end if none. */
static uint64_t find_bit(const struct frame_bitmap *fb, uint64_t first, uint64_t end, bool set)
{
    while (first < end) {
        uint64_t w = first / WORD_BITS;
        unsigned lo = (unsigned)(first % WORD_BITS);
        uint64_t x = set ? fb->bits[w] : ~fb->bits[w];
        x &= ~((1ull << lo) - 1);
        if (x) {
            uint64_t f = w * WORD_BITS + (uint64_t)__builtin_ctzll(x);
            return f < end ? f : end;
        }
        first = (w + 1) * WORD_BITS;
    }
    return end;
}

/* Clamp [first, first+count) to the bitmap; false if nothing is left. */
static bool clamp(const struct frame_bitmap *fb, uint64_t first, uint64_t count, uint64_t *end)
{
    if (first >= fb->nframes || count == 0)
        return false;
    *end = count > fb->nframes - first ? fb->nframes : first + count;
    return true;
}

size_t fb_storage_bytes(uint64_t nframes)
{
    return (size_t)(nwords(nframes) * sizeof(uint64_t));
}

void fb_init(struct frame_bitmap *fb, uint64_t *storage, uint64_t nframes)
{
    fb->bits = storage;
    fb->nframes = nframes;
    fb->free_count = 0;
    fb->next_hint = 0;
    for (uint64_t i = 0, n = nwords(nframes); i < n; i++)
        storage[i] = ~0ull;
}

void fb_release_range(struct frame_bitmap *fb, uint64_t first, uint64_t count)
{
    /* Frame 0 is never released: a physical address of 0 looks like NULL. */
    if (first == 0) {
        if (count == 0)
            return;
        first = 1;
        count--;
    }
    uint64_t end;
    if (!clamp(fb, first, count, &end))
        return;
    fb->free_count += change_range(fb, first, end, false);
    if (first < fb->next_hint)
        fb->next_hint = first;
}

void fb_reserve_range(struct frame_bitmap *fb, uint64_t first, uint64_t count)
{
    uint64_t end;
    if (!clamp(fb, first, count, &end))
        return;
    fb->free_count -= change_range(fb, first, end, true);
}

bool fb_is_free(const struct frame_bitmap *fb, uint64_t frame)
{
    if (frame >= fb->nframes)
        return false;
    return !(fb->bits[frame / WORD_BITS] >> (frame % WORD_BITS) & 1);
}

enum fb_status fb_alloc(struct frame_bitmap *fb, uint64_t *frame_out)
{
    if (fb->free_count == 0)
        return FB_ERR_NO_MEMORY;
    /* Scan whole words from the hint; the tail bits are set, so any clear
     * bit found is a real frame. */
    uint64_t f = find_bit(fb, fb->next_hint, fb->nframes, false);
    if (f >= fb->nframes)
        return FB_ERR_NO_MEMORY; /* unreachable while free_count is exact */
    fb->bits[f / WORD_BITS] |= 1ull << (f % WORD_BITS);
    fb->free_count--;
    fb->next_hint = f + 1;
    *frame_out = f;
    return FB_OK;
}

enum fb_status fb_alloc_contig(struct frame_bitmap *fb, uint64_t count, uint64_t align_frames,
                               uint64_t *first_out)
{
    if (count == 0 || align_frames == 0 || (align_frames & (align_frames - 1)) != 0)
        return FB_ERR_INVALID;
    if (count > fb->free_count)
        return FB_ERR_NO_MEMORY;
    /* The only multiple of an alignment >= nframes inside the bitmap is
     * frame 0, which is never handed out. Checking this first also keeps
     * the round-ups below from overflowing. */
    if (align_frames >= fb->nframes)
        return FB_ERR_NO_MEMORY;
    uint64_t amask = align_frames - 1;
    uint64_t s = fb->next_hint > 1 ? fb->next_hint : 1;
    for (;;) {
        /* Candidates start on a free frame, rounded up to the alignment. */
        s = find_bit(fb, s, fb->nframes, false);
        s = (s + amask) & ~amask;
        if (s >= fb->nframes || count > fb->nframes - s)
            return FB_ERR_NO_MEMORY;
        uint64_t used = find_bit(fb, s, s + count, true);
        if (used == s + count)
            break;
        s = used + 1;
    }
    change_range(fb, s, s + count, true);
    fb->free_count -= count;
    if (s == fb->next_hint)
        fb->next_hint = s + count;
    *first_out = s;
    return FB_OK;
}

enum fb_status fb_free(struct frame_bitmap *fb, uint64_t frame)
{
    if (frame == 0 || frame >= fb->nframes)
        return FB_ERR_RANGE;
    uint64_t bit = 1ull << (frame % WORD_BITS);
    uint64_t *w = &fb->bits[frame / WORD_BITS];
    if (!(*w & bit))
        return FB_ERR_DOUBLE_FREE;
    *w &= ~bit;
    fb->free_count++;
    if (frame < fb->next_hint)
        fb->next_hint = frame;
    return FB_OK;
}

enum fb_status fb_free_contig(struct frame_bitmap *fb, uint64_t first, uint64_t count)
{
    if (count == 0)
        return FB_ERR_INVALID;
    if (first == 0 || first >= fb->nframes || count > fb->nframes - first)
        return FB_ERR_RANGE;
    /* Check the whole run before touching anything: all or nothing. */
    if (find_bit(fb, first, first + count, false) != first + count)
        return FB_ERR_DOUBLE_FREE;
    change_range(fb, first, first + count, false);
    fb->free_count += count;
    if (first < fb->next_hint)
        fb->next_hint = first;
    return FB_OK;
}

const char *fb_status_str(enum fb_status s)
{
    switch (s) {
    case FB_OK:
        return "ok";
    case FB_ERR_RANGE:
        return "frame out of range";
    case FB_ERR_DOUBLE_FREE:
        return "double free";
    case FB_ERR_NO_MEMORY:
        return "out of physical memory";
    case FB_ERR_INVALID:
        return "invalid argument";
    }
    return "unknown status";
}

/* ---- Building the allocator from a memory map ---- */

/* End of a region, saturated at UINT64_MAX (mb2_parse already rejects
 * overflow, but these functions accept any map). */
static uint64_t region_end(const struct mb2_mem_region *r)
{
    return r->length > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->length;
}

/* Smallest page-aligned address >= a; false if it does not exist. */
static bool page_up(uint64_t a, uint64_t *out)
{
    if (a > UINT64_MAX - PAGE_MASK)
        return false;
    *out = (a + PAGE_MASK) & ~PAGE_MASK;
    return true;
}

/* Frames touched by [base, end): floor(base), ceil(end); no overflow since
 * ceil(UINT64_MAX / 4096) = 2^52. */
static uint64_t frame_floor(uint64_t a)
{
    return a >> FRAME_SHIFT;
}

static uint64_t frame_ceil(uint64_t a)
{
    return (a >> FRAME_SHIFT) + ((a & PAGE_MASK) != 0);
}

uint64_t physmem_frame_count(const struct mb2_mem_region *map, uint32_t n)
{
    uint64_t top = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (map[i].type != MB2_MEM_AVAILABLE || map[i].length == 0)
            continue;
        uint64_t e = region_end(&map[i]);
        if (e > top)
            top = e;
    }
    return frame_ceil(top);
}

static bool overlaps(uint64_t b1, uint64_t e1, uint64_t b2, uint64_t e2)
{
    return b1 < e2 && b2 < e1;
}

/* Is every byte of [b, e) covered by available entries? Steps from entry to
 * entry, at most n steps since each one moves the cursor strictly up. */
static bool covered(const struct mb2_mem_region *map, uint32_t n, uint64_t b, uint64_t e)
{
    while (b < e) {
        uint64_t reach = b;
        for (uint32_t i = 0; i < n; i++) {
            if (map[i].type != MB2_MEM_AVAILABLE || map[i].length == 0)
                continue;
            uint64_t re = region_end(&map[i]);
            if (map[i].base <= b && b < re && re > reach)
                reach = re;
        }
        if (reach == b)
            return false;
        b = reach;
    }
    return true;
}

/* Could [b, b+size) be used (b page-aligned, b >= FRAME_SIZE)? */
static bool usable(const struct mb2_mem_region *map, uint32_t n, const struct phys_range *avoid,
                   uint32_t navoid, uint64_t b, uint64_t size, uint64_t limit)
{
    if (b < FRAME_SIZE || b > limit || size > limit - b)
        return false;
    uint64_t e = b + size;
    for (uint32_t i = 0; i < n; i++) {
        if (map[i].type != MB2_MEM_AVAILABLE && map[i].length != 0 &&
            overlaps(b, e, map[i].base, region_end(&map[i])))
            return false;
    }
    for (uint32_t i = 0; i < navoid; i++) {
        /* An inverted range (end < base) is empty, like in fb_init_from_map. */
        if (avoid[i].base < avoid[i].end && overlaps(b, e, avoid[i].base, avoid[i].end))
            return false;
    }
    return covered(map, n, b, e);
}

/*
 * The lowest usable base is either the first page or sits right where some
 * obstacle ends: moving a usable window down one page would hit a byte that
 * is blocked, so some blocked interval ends inside that page, and rounding
 * its end up gives the base. Blocked intervals are non-available entries,
 * avoid ranges, and the holes between available entries (which end where an
 * available entry begins). So only those points need checking: O(n + navoid)
 * candidates, each checked in O(n^2 + navoid). n is at most MB2_MAX_MMAP.
 */
bool physmem_find_free(const struct mb2_mem_region *map, uint32_t n, const struct phys_range *avoid,
                       uint32_t navoid, uint64_t size, uint64_t limit, uint64_t *base_out)
{
    /* Whole frames only: the caller will map and reserve whole frames. */
    if (size == 0 || !page_up(size, &size))
        return false;
    bool found = false;
    uint64_t best = 0;
    for (uint32_t i = 0; i < 1 + n + navoid; i++) {
        uint64_t c;
        if (i == 0) {
            c = FRAME_SIZE;
        } else if (i <= n) {
            const struct mb2_mem_region *r = &map[i - 1];
            if (r->length == 0)
                continue;
            c = r->type == MB2_MEM_AVAILABLE ? r->base : region_end(r);
        } else {
            c = avoid[i - 1 - n].end;
        }
        if (!page_up(c, &c) || (found && c >= best))
            continue;
        if (usable(map, n, avoid, navoid, c, size, limit)) {
            best = c;
            found = true;
        }
    }
    if (found)
        *base_out = best;
    return found;
}

static void release_if_covered(struct frame_bitmap *fb, const struct mb2_mem_region *map,
                               uint32_t n, uint64_t f)
{
    /* f < nframes keeps the work bounded; the topmost frame of the address
     * space cannot be covered (no region ends at 2^64), and skipping it
     * keeps (f + 1) << FRAME_SHIFT from overflowing. */
    if (f >= fb->nframes || f >= UINT64_MAX >> FRAME_SHIFT)
        return;
    if (covered(map, n, f << FRAME_SHIFT, (f + 1) << FRAME_SHIFT))
        fb_release_range(fb, f, 1);
}

void fb_init_from_map(struct frame_bitmap *fb, uint64_t *storage, uint64_t nframes,
                      const struct mb2_mem_region *map, uint32_t n,
                      const struct phys_range *reserved, uint32_t nreserved)
{
    fb_init(fb, storage, nframes);
    /* Free what is available, then reserve on top: where entries overlap,
     * anything that is not "available" wins. A frame is free exactly when
     * physmem_find_free would consider it usable. */
    for (uint32_t i = 0; i < n; i++) {
        if (map[i].type != MB2_MEM_AVAILABLE || map[i].length == 0)
            continue;
        uint64_t b = map[i].base, e = region_end(&map[i]);
        /* Frames wholly inside the region. */
        uint64_t first = frame_ceil(b), end = frame_floor(e);
        if (first < end)
            fb_release_range(fb, first, end - first);
        /* A frame cut by entries meeting mid-frame is still usable if the
         * union covers it. Checking the frame holding each unaligned base is
         * enough: the entry covering such a frame's last byte either holds
         * the whole frame or starts inside it. */
        if (b & PAGE_MASK)
            release_if_covered(fb, map, n, frame_floor(b));
    }
    fb_reserve_range(fb, 0, 1); /* already never released; stated for clarity */
    for (uint32_t i = 0; i < n; i++) {
        if (map[i].type == MB2_MEM_AVAILABLE || map[i].length == 0)
            continue;
        /* Every frame the region touches, even partly. */
        uint64_t first = frame_floor(map[i].base);
        uint64_t end = frame_ceil(region_end(&map[i]));
        fb_reserve_range(fb, first, end - first);
    }
    for (uint32_t i = 0; i < nreserved; i++) {
        if (reserved[i].end <= reserved[i].base)
            continue;
        uint64_t first = frame_floor(reserved[i].base);
        uint64_t end = frame_ceil(reserved[i].end);
        fb_reserve_range(fb, first, end - first);
    }
}
