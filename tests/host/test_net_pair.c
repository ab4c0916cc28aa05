/*
 * Two stacks wired back to back through a simulated link that drops,
 * duplicates and reorders frames deterministically (a seeded PRNG), driven
 * by a fake clock. Each side sends 1 MiB to the other at once; the bytes
 * received must hash to what was sent, and both sides must close cleanly
 * (FIN both ways, one TIME_WAIT that then expires, every slot free).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define IP_A     0x0a000001u
#define IP_B     0x0a000002u
#define PORT     7000
#define CONNS    4
#define LINK_MAX 2048
#define TOTAL    (1u << 20)

struct pkt {
    uint64_t at;
    uint16_t len;
    uint8_t b[ETH_FRAME_MAX];
};

struct link {
    struct pkt *q;
    size_t n;
    uint64_t rng;
    unsigned drop_pct, dup_pct, reorder_pct;
    uint64_t *now;
    size_t sent, dropped, duplicated, reordered;
};

struct side {
    struct net_stack st;
    struct tcp_conn conns[CONNS];
    uint8_t *mem;
    struct link out;
    int h;           /* connection handle */
    uint64_t tx_rng; /* generates the bytes to send */
    uint64_t rx_rng; /* generates the bytes expected */
    size_t sent, received;
    bool shut, eof, closed;
    uint64_t hash_tx, hash_rx;
    size_t read_chunk;  /* 0: read everything available */
    int rcv_ws, snd_ws; /* window scale shifts seen while connected */
};

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* FNV-1a over the stream: the "digest" both sides compare. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void link_emit(void *ctx, const uint8_t *frame, size_t len)
{
    struct link *l = ctx;
    l->sent++;
    unsigned r = (unsigned)(xorshift(&l->rng) % 100);
    if (r < l->drop_pct) {
        l->dropped++;
        return;
    }
    int copies = (unsigned)(xorshift(&l->rng) % 100) < l->dup_pct ? 2 : 1;
    l->duplicated += copies - 1;
    for (int c = 0; c < copies && l->n < LINK_MAX; c++) {
        struct pkt *p = &l->q[l->n++];
        p->at = *l->now + 1;
        if ((unsigned)(xorshift(&l->rng) % 100) < l->reorder_pct) {
            p->at += 1 + xorshift(&l->rng) % 10; /* overtaken by later frames */
            l->reordered++;
        }
        p->len = (uint16_t)len;
        memcpy(p->b, frame, len);
    }
}

struct pair {
    struct side a, b;
    uint64_t now;
};

static struct pair P;

static void side_init(struct side *s, uint32_t ip, const uint8_t mac, uint64_t seed,
                      const struct link *shape, size_t buf)
{
    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mac[0] = 2;
    cfg.mac[5] = mac;
    cfg.ip = ip;
    cfg.netmask = 0xffffff00;
    cfg.rto_min_ms = 200;
    cfg.delack_ms = 40;
    memset(cfg.isn_secret, mac, sizeof(cfg.isn_secret));
    s->mem = calloc(CONNS, 2 * buf);
    s->out = *shape;
    s->out.q = calloc(LINK_MAX, sizeof(struct pkt));
    s->out.rng = seed;
    s->out.now = &P.now;
    struct net_mem m = {s->conns, CONNS, s->mem, buf, buf};
    net_init(&s->st, &cfg, &m, link_emit, &s->out, P.now);
    s->tx_rng = seed * 7 + 1;
    s->hash_tx = s->hash_rx = 0xcbf29ce484222325ull;
    s->h = -1;
}

/* Delivers every frame due by now from one side's link into the other. */
static void deliver(struct side *from, struct side *to)
{
    for (size_t i = 0; i < from->out.n;) {
        struct pkt *p = &from->out.q[i];
        if (p->at > P.now) {
            i++;
            continue;
        }
        static struct pkt cur;
        cur = *p;
        *p = from->out.q[--from->out.n];
        net_input(&to->st, cur.b, cur.len, P.now);
    }
}

static void app(struct side *s)
{
    if (s->h < 0 || s->closed)
        return;
    if (tcp_get_state(&s->st, s->h) == TCP_ESTABLISHED) {
        s->rcv_ws = s->conns[s->h].rcv_ws;
        s->snd_ws = s->conns[s->h].snd_ws;
    }
    uint8_t buf[8192];
    /* Write as much of the stream as the send buffer takes. */
    while (s->sent < TOTAL) {
        size_t n = TOTAL - s->sent < sizeof(buf) ? TOTAL - s->sent : sizeof(buf);
        size_t room = tcp_writable(&s->st, s->h);
        if (room == 0)
            break;
        if (n > room)
            n = room;
        uint64_t save = s->tx_rng;
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)(xorshift(&s->tx_rng) >> 56);
        long w = tcp_write(&s->st, s->h, buf, n, P.now);
        cr_assert_gt(w, 0, "write: %ld", w);
        if ((size_t)w < n) { /* regenerate from where the write stopped */
            s->tx_rng = save;
            for (long i = 0; i < w; i++)
                xorshift(&s->tx_rng);
        }
        s->hash_tx = fnv(s->hash_tx, buf, (size_t)w);
        s->sent += (size_t)w;
    }
    if (s->sent == TOTAL && !s->shut) {
        cr_assert_eq(tcp_shutdown(&s->st, s->h, P.now), 0);
        s->shut = true;
    }
    for (;;) {
        size_t want = s->read_chunk ? s->read_chunk : sizeof(buf);
        long r = tcp_read(&s->st, s->h, buf, want, P.now);
        if (r == NET_EAGAIN)
            break;
        if (r == 0) {
            s->eof = true;
            break;
        }
        cr_assert_gt(r, 0, "read: %ld", r);
        for (long i = 0; i < r; i++)
            cr_assert_eq(buf[i], (uint8_t)(xorshift(&s->rx_rng) >> 56), "byte %zu differs",
                         s->received + (size_t)i);
        s->hash_rx = fnv(s->hash_rx, buf, (size_t)r);
        s->received += (size_t)r;
        if (s->read_chunk)
            break; /* a slow reader: one chunk per event */
    }
    if (s->eof && s->shut && !s->closed) {
        cr_assert_eq(tcp_get_error(&s->st, s->h), 0, "closed by an error");
        cr_assert_eq(tcp_close(&s->st, s->h, P.now), 0);
        s->closed = true;
    }
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a < b ? a : b;
    return m < c ? m : c;
}

static uint64_t next_frame(const struct link *l)
{
    uint64_t t = NET_NEVER;
    for (size_t i = 0; i < l->n; i++)
        if (l->q[i].at < t)
            t = l->q[i].at;
    return t;
}

static bool all_free(const struct side *s)
{
    for (int i = 0; i < CONNS; i++)
        if (s->conns[i].state != TCP_CLOSED || s->conns[i].user_open)
            return false;
    return true;
}

static void run(const struct link *shape, size_t buf, size_t slow_read)
{
    memset(&P, 0, sizeof(P));
    P.now = 1000;
    side_init(&P.a, IP_A, 1, 0x1234567, shape, buf);
    side_init(&P.b, IP_B, 2, 0x7654321, shape, buf);
    P.b.read_chunk = slow_read;
    /* Each side expects the other's generator. */
    P.a.rx_rng = P.b.tx_rng;
    P.b.rx_rng = P.a.tx_rng;
    int l = tcp_listen(&P.b.st, PORT, 1);
    cr_assert_geq(l, 0);
    P.a.h = tcp_connect(&P.a.st, IP_B, PORT, P.now);
    cr_assert_geq(P.a.h, 0);
    uint64_t limit = P.now + 3600 * 1000; /* an hour of simulated time */
    for (long steps = 0;; steps++) {
        cr_assert_lt(steps, 5000000, "no progress");
        cr_assert_lt(P.now, limit, "took too long: sent %zu/%zu received %zu/%zu", P.a.sent,
                     P.b.sent, P.b.received, P.a.received);
        deliver(&P.a, &P.b);
        deliver(&P.b, &P.a);
        net_poll(&P.a.st, P.now);
        net_poll(&P.b.st, P.now);
        if (P.b.h < 0) {
            int c = tcp_accept(&P.b.st, l);
            if (c >= 0) {
                P.b.h = c;
                tcp_close(&P.b.st, l, P.now);
            }
        }
        app(&P.a);
        app(&P.b);
        if (all_free(&P.a) && all_free(&P.b) && P.a.out.n == 0 && P.b.out.n == 0)
            break;
        uint64_t next =
            min3(next_frame(&P.a.out), next_frame(&P.b.out), net_next_deadline(&P.a.st));
        uint64_t nb = net_next_deadline(&P.b.st);
        if (nb < next)
            next = nb;
        /* A slow reader reads again every 5 ms. */
        if (slow_read && P.b.h >= 0 && !P.b.closed && P.now + 5 < next)
            next = P.now + 5;
        cr_assert_neq(next, NET_NEVER, "stuck: nothing scheduled");
        if (next > P.now)
            P.now = next;
    }
    cr_assert_eq(P.a.received, TOTAL);
    cr_assert_eq(P.b.received, TOTAL);
    cr_assert_eq(P.a.hash_rx, P.b.hash_tx, "digest B -> A");
    cr_assert_eq(P.b.hash_rx, P.a.hash_tx, "digest A -> B");
    cr_assert(P.a.eof && P.b.eof);
    cr_assert_eq(P.a.st.ctr.tcp_conn_drops + P.b.st.ctr.tcp_conn_drops, 0);
}

static void report(const char *name)
{
    cr_log_info(
        "%s: %.1f s simulated, frames A %zu (dropped %zu dup %zu reordered %zu), "
        "retrans A %llu B %llu, fast A %llu B %llu, timeouts A %llu B %llu, "
        "probes B %llu",
        name, (double)(P.now - 1000) / 1000, P.a.out.sent, P.a.out.dropped, P.a.out.duplicated,
        P.a.out.reordered, (unsigned long long)P.a.st.ctr.tcp_retrans,
        (unsigned long long)P.b.st.ctr.tcp_retrans, (unsigned long long)P.a.st.ctr.tcp_fast_retrans,
        (unsigned long long)P.b.st.ctr.tcp_fast_retrans,
        (unsigned long long)P.a.st.ctr.tcp_timeouts, (unsigned long long)P.b.st.ctr.tcp_timeouts,
        (unsigned long long)P.a.st.ctr.tcp_probes);
}

Test(pair, clean_link, .timeout = 60)
{
    struct link shape = {0};
    run(&shape, 65536, 0);
    report("clean");
    cr_assert_eq(P.a.st.ctr.tcp_retrans + P.b.st.ctr.tcp_retrans, 0,
                 "nothing lost, nothing resent");
    cr_assert_eq(P.a.rcv_ws, 1, "64 KiB buffers need window scaling");
    cr_assert_eq(P.b.snd_ws, 1, "and the peer honours it");
}

Test(pair, lossy_link, .timeout = 60)
{
    struct link shape = {.drop_pct = 5, .dup_pct = 2, .reorder_pct = 5};
    run(&shape, 65536, 0);
    report("lossy");
    cr_assert_gt(P.a.out.dropped, 0);
    cr_assert_gt(P.a.st.ctr.tcp_fast_retrans + P.b.st.ctr.tcp_fast_retrans, 0);
    cr_assert_gt(P.a.st.ctr.tcp_ooo_segs + P.b.st.ctr.tcp_ooo_segs, 0);
}

Test(pair, heavy_reordering_and_duplication, .timeout = 60)
{
    struct link shape = {.drop_pct = 1, .dup_pct = 10, .reorder_pct = 30};
    run(&shape, 16384, 0);
    report("reorder");
    cr_assert_gt(P.a.st.ctr.tcp_dup_segs + P.b.st.ctr.tcp_dup_segs, 0);
}

Test(pair, small_buffers_slow_reader, .timeout = 60)
{
    struct link shape = {.drop_pct = 2, .dup_pct = 1, .reorder_pct = 2};
    run(&shape, 4096, 512);
    report("slow reader");
}
