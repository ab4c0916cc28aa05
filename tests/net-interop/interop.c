/*
 * Interop harness: lib/net on a TAP device, talking to the Linux kernel's
 * TCP inside a network namespace that run.sh created (it owns the only
 * addresses involved, 10.99.0.0/24). Host code: libc allowed.
 *
 *   interop TAP SIZE SEED TIMEOUT_S [DROP% DUP% REORDER%]
 *
 * Two connections at once, each carrying SIZE bytes both ways:
 *   1. we connect to the Linux server at 10.99.0.1:5001;
 *   2. the Linux client connects to us at 10.99.0.2:5002.
 * Both directions pass through an impairment stage that drops 5 %,
 * duplicates 2 % and reorders 5 % of frames, decided by a PRNG seeded with
 * SEED (percentages can be given). Streams are SHA-256 counter blocks
 * repeated with a prime period, so either side can generate what the
 * other must receive. Prints RESULT lines with the
 * SHA-256 of every stream sent and received, and exits 0 once both
 * connections finished cleanly, 1 on any failure or at the timeout.
 */
#define _DEFAULT_SOURCE /* clock_gettime, usleep */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "sha256.h"

#define US      0x0a630002u /* 10.99.0.2 */
#define LINUX   0x0a630001u /* 10.99.0.1 */
#define NCONNS  8
#define BUFSZ   (256 * 1024)
#define QMAX    512
#define PATTERN 1000003 /* stream period: a prime, so chunks do not line up */

static int tapfd;
static uint64_t rng;
static unsigned drop_pct = 5, dup_pct = 2, reorder_pct = 5;

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- Impairment: one delay queue per direction ---- */

struct frame {
    uint64_t at;
    uint16_t len;
    uint8_t b[ETH_FRAME_MAX];
};

struct queue {
    struct frame f[QMAX];
    int n;
    unsigned long in, dropped, duplicated, reordered, overflow;
};

static struct queue to_stack, to_tap;

static void impair(struct queue *q, const uint8_t *b, size_t len, uint64_t now)
{
    q->in++;
    if (len > ETH_FRAME_MAX)
        return;
    if (rnd() % 100 < drop_pct) {
        q->dropped++;
        return;
    }
    int copies = rnd() % 100 < dup_pct ? 2 : 1;
    q->duplicated += (unsigned long)(copies - 1);
    for (int c = 0; c < copies; c++) {
        if (q->n == QMAX) {
            q->overflow++;
            return;
        }
        struct frame *f = &q->f[q->n++];
        f->at = now;
        /* Held back 1-4 ms: frames sent after it overtake it. */
        if (rnd() % 100 < reorder_pct) {
            f->at += 1 + rnd() % 4;
            q->reordered++;
        }
        f->len = (uint16_t)len;
        memcpy(f->b, b, len);
    }
}

/* Hands every due frame of q to out, oldest due time first. */
static void release(struct queue *q, uint64_t now, void (*out)(const uint8_t *, size_t))
{
    for (;;) {
        int best = -1;
        for (int i = 0; i < q->n; i++)
            if (q->f[i].at <= now && (best < 0 || q->f[i].at < q->f[best].at))
                best = i;
        if (best < 0)
            return;
        static struct frame f;
        f = q->f[best];
        memmove(&q->f[best], &q->f[best + 1], (size_t)(q->n - best - 1) * sizeof(f));
        q->n--;
        out(f.b, f.len);
    }
}

static uint64_t next_release(const struct queue *q)
{
    uint64_t t = NET_NEVER;
    for (int i = 0; i < q->n; i++)
        if (q->f[i].at < t)
            t = q->f[i].at;
    return t;
}

static struct net_stack st;

static void emit(void *ctx, const uint8_t *f, size_t len)
{
    impair(&to_tap, f, len, now_ms());
}

static void tap_write(const uint8_t *b, size_t len)
{
    if (write(tapfd, b, len) < 0 && errno != EAGAIN)
        perror("tap write");
}

static void stack_input(const uint8_t *b, size_t len)
{
    net_input(&st, b, len, now_ms());
}

/* ---- Streams ---- */

/* Stream tag is a pattern of PATTERN bytes repeated: block i of the
 * pattern is SHA-256(tag || i as 8 bytes little-endian). */
struct stream {
    uint8_t *pat;
    size_t pos, done, size;
    struct sha256 sha;
};

static void stream_init(struct stream *s, const char *tag, size_t size)
{
    memset(s, 0, sizeof(*s));
    s->size = size;
    s->pat = malloc(PATTERN + 32);
    for (uint64_t i = 0; i * 32 < PATTERN; i++) {
        struct sha256 h;
        uint8_t idx[8];
        for (int k = 0; k < 8; k++)
            idx[k] = (uint8_t)(i >> (8 * k));
        sha256_init(&h);
        sha256_update(&h, tag, strlen(tag));
        sha256_update(&h, idx, 8);
        sha256_final(&h, s->pat + i * 32);
    }
    sha256_init(&s->sha);
}

static uint8_t stream_byte(struct stream *s)
{
    uint8_t b = s->pat[s->pos];
    s->pos = s->pos + 1 == PATTERN ? 0 : s->pos + 1;
    return b;
}

struct conn {
    const char *name;
    int h;
    struct stream tx, rx_expect;
    struct sha256 rx_sha;
    size_t rx;
    bool shut, eof, closed, bad, established;
    uint8_t pending[16384];
    size_t pend_len, pend_off;
};

static void hex(const uint8_t d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void pump(struct conn *c, uint64_t now)
{
    if (c->h < 0 || c->closed)
        return;
    int st0 = tcp_get_state(&st, c->h);
    if (st0 >= TCP_ESTABLISHED)
        c->established = true;
    if (!c->established)
        return; /* nothing is written before the handshake: a refused
                   connect is retried from scratch */
    if (st0 == TCP_CLOSED && !c->eof) {
        fprintf(stderr, "%s: connection lost: %d\n", c->name, tcp_get_error(&st, c->h));
        c->bad = true;
        return;
    }
    for (;;) {
        if (c->pend_off == c->pend_len) {
            size_t n = c->tx.size - c->tx.done;
            if (n > sizeof(c->pending))
                n = sizeof(c->pending);
            if (n == 0)
                break;
            for (size_t i = 0; i < n; i++)
                c->pending[i] = stream_byte(&c->tx);
            sha256_update(&c->tx.sha, c->pending, n);
            c->tx.done += n;
            c->pend_len = n;
            c->pend_off = 0;
        }
        long w = tcp_write(&st, c->h, c->pending + c->pend_off, c->pend_len - c->pend_off, now);
        if (w == NET_EAGAIN)
            break;
        if (w < 0) {
            fprintf(stderr, "%s: write: %ld\n", c->name, w);
            c->bad = true;
            return;
        }
        c->pend_off += (size_t)w;
    }
    if (c->tx.done == c->tx.size && c->pend_off == c->pend_len && !c->shut) {
        tcp_shutdown(&st, c->h, now);
        c->shut = true;
    }
    uint8_t buf[16384];
    for (;;) {
        long r = tcp_read(&st, c->h, buf, sizeof(buf), now);
        if (r == NET_EAGAIN)
            break;
        if (r == 0) {
            c->eof = true;
            break;
        }
        if (r < 0) {
            fprintf(stderr, "%s: read: %ld\n", c->name, r);
            c->bad = true;
            return;
        }
        for (long i = 0; i < r; i++) {
            if (buf[i] != stream_byte(&c->rx_expect) && !c->bad) {
                fprintf(stderr, "%s: byte %zu differs\n", c->name, c->rx + (size_t)i);
                c->bad = true;
            }
        }
        sha256_update(&c->rx_sha, buf, (size_t)r);
        c->rx += (size_t)r;
    }
    int state = tcp_get_state(&st, c->h);
    /* Clean end: our FIN acknowledged, the peer's received. */
    if (c->eof && c->shut && (state == TCP_TIME_WAIT || state == TCP_CLOSED)) {
        if (tcp_get_error(&st, c->h))
            c->bad = true;
        tcp_close(&st, c->h, now);
        c->closed = true;
    }
}

/* One line of a connection's sending and receiving state, for a status
 * report or a failure. */
static void tcp_dump(const char *name, int h, uint64_t now)
{
    if (h < 0)
        return;
    const struct tcp_conn *c = &st.conns[h];
    fprintf(stderr,
            "  %s %s: una +%u nxt +%u max +%u wnd %u cwnd %u ssthresh %u rto %u rexmits %u "
            "recovery %d dupacks %u persist %d rexmit_in %lld persist_in %lld; rcv +%u adv %d "
            "len %zu ooo %u\n",
            name, tcp_state_name(c->state), c->snd_una - c->iss, c->snd_nxt - c->iss,
            c->snd_max - c->iss, c->snd_wnd, c->cwnd, c->ssthresh, c->rto, c->rexmits,
            c->in_recovery, c->dupacks, c->persisting,
            c->t_rexmit == NET_NEVER ? -1LL : (long long)(c->t_rexmit - now),
            c->t_persist == NET_NEVER ? -1LL : (long long)(c->t_persist - now), c->rcv_nxt - c->irs,
            (int)(c->rcv_adv - c->rcv_nxt), c->rcv.len, c->ooo_n);
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 8) {
        fprintf(stderr, "usage: interop TAP SIZE SEED TIMEOUT_S [DROP%% DUP%% REORDER%%]\n");
        return 2;
    }
    if (argc == 8) {
        drop_pct = (unsigned)atoi(argv[5]);
        dup_pct = (unsigned)atoi(argv[6]);
        reorder_pct = (unsigned)atoi(argv[7]);
    }
    size_t size = strtoul(argv[2], NULL, 0);
    rng = strtoull(argv[3], NULL, 0) | 1;
    uint64_t deadline = now_ms() + strtoull(argv[4], NULL, 0) * 1000;

    tapfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
    if (tapfd < 0 || ioctl(tapfd, TUNSETIFF, &ifr) < 0) {
        perror("tap");
        return 1;
    }

    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    const uint8_t mac[ETH_ALEN] = {2, 0, 0, 0x99, 0, 2};
    memcpy(cfg.mac, mac, ETH_ALEN);
    cfg.ip = US;
    cfg.netmask = 0xffffff00;
    cfg.rto_min_ms = 200; /* what Linux uses; RFC 6298's 1 s would only slow the test */
    cfg.delack_ms = 40;
    if (getrandom(cfg.isn_secret, sizeof(cfg.isn_secret), 0) != sizeof(cfg.isn_secret))
        return 1;
    static struct tcp_conn conns[NCONNS];
    uint8_t *mem = calloc(NCONNS, 2 * BUFSZ);
    struct net_mem m = {conns, NCONNS, mem, BUFSZ, BUFSZ};
    uint64_t now = now_ms();
    net_init(&st, &cfg, &m, emit, NULL, now);

    struct conn c1 = {.name = "to-linux-server", .h = -1},
                c2 = {.name = "from-linux-client", .h = -1};
    stream_init(&c1.tx, "c2s-1", size);
    stream_init(&c1.rx_expect, "s2c-1", size);
    stream_init(&c2.tx, "s2c-2", size);
    stream_init(&c2.rx_expect, "c2s-2", size);
    sha256_init(&c1.rx_sha);
    sha256_init(&c2.rx_sha);
    int l = tcp_listen(&st, 5002, 4);
    uint64_t next_connect = now, next_status = now + 5000;

    while (!(c1.closed && c2.closed)) {
        now = now_ms();
        if (now > deadline || c1.bad || c2.bad) {
            fprintf(stderr, "failed: %s (c1 %zu/%zu rx %zu, c2 %zu/%zu rx %zu)\n",
                    now > deadline ? "timeout" : "stream error", c1.tx.done, size, c1.rx,
                    c2.tx.done, size, c2.rx);
            tcp_dump(c1.name, c1.h, now);
            tcp_dump(c2.name, c2.h, now);
            return 1;
        }
        /* The Linux server may not listen yet: retry a refused connect. */
        if (c1.h >= 0 && !c1.established && tcp_get_state(&st, c1.h) == TCP_CLOSED) {
            tcp_close(&st, c1.h, now);
            c1.h = -1;
        }
        if (c1.h < 0 && now >= next_connect) {
            c1.h = tcp_connect(&st, LINUX, 5001, now);
            next_connect = now + 200;
        }
        if (c2.h < 0) {
            c2.h = tcp_accept(&st, l);
            if (c2.h >= 0)
                tcp_close(&st, l, now);
            else
                c2.h = -1;
        }
        pump(&c1, now);
        pump(&c2, now);
        if (now >= next_status) {
            next_status = now + 5000;
            fprintf(stderr,
                    "status: c1 %s tx %zu rx %zu, c2 %s tx %zu rx %zu; tcp in %llu out %llu "
                    "rst in %llu out %llu no_conn %llu\n",
                    c1.h >= 0 ? tcp_state_name(tcp_get_state(&st, c1.h)) : "-", c1.tx.done, c1.rx,
                    c2.h >= 0 ? tcp_state_name(tcp_get_state(&st, c2.h)) : "-", c2.tx.done, c2.rx,
                    (unsigned long long)st.ctr.tcp_in, (unsigned long long)st.ctr.tcp_out,
                    (unsigned long long)st.ctr.tcp_rst_in, (unsigned long long)st.ctr.tcp_rst_out,
                    (unsigned long long)st.ctr.tcp_no_conn);
            tcp_dump(c1.name, c1.h, now);
            tcp_dump(c2.name, c2.h, now);
        }
        uint64_t t = net_next_deadline(&st);
        uint64_t r = next_release(&to_stack), w = next_release(&to_tap);
        if (r < t)
            t = r;
        if (w < t)
            t = w;
        int timeout = t <= now ? 0 : t - now > 10 ? 10 : (int)(t - now);
        struct pollfd p = {tapfd, POLLIN, 0};
        poll(&p, 1, timeout);
        now = now_ms();
        uint8_t buf[ETH_FRAME_MAX + 64];
        ssize_t n;
        while ((n = read(tapfd, buf, sizeof(buf))) > 0)
            impair(&to_stack, buf, (size_t)n, now);
        release(&to_stack, now, stack_input);
        net_poll(&st, now_ms());
        release(&to_tap, now_ms(), tap_write);
    }
    /* Let our last ACKs out before reporting. */
    uint64_t end = now_ms() + 300;
    while ((now = now_ms()) < end) {
        net_poll(&st, now);
        release(&to_tap, now, tap_write);
        usleep(1000);
    }
    struct conn *cs[2] = {&c1, &c2};
    for (int i = 0; i < 2; i++) {
        uint8_t d[32];
        char tx[65], rx[65];
        sha256_final(&cs[i]->tx.sha, d);
        hex(d, tx);
        sha256_final(&cs[i]->rx_sha, d);
        hex(d, rx);
        printf("RESULT %s sent=%zu sha=%s received=%zu sha=%s\n", cs[i]->name, cs[i]->tx.done, tx,
               cs[i]->rx, rx);
    }
    printf("STATS frames in %lu (dropped %lu dup %lu reordered %lu overflow %lu) out %lu (dropped "
           "%lu dup %lu reordered %lu overflow %lu); retrans %llu fast %llu timeouts %llu ooo %llu "
           "rst_out %llu challenge_acks %llu\n",
           to_stack.in, to_stack.dropped, to_stack.duplicated, to_stack.reordered,
           to_stack.overflow, to_tap.in, to_tap.dropped, to_tap.duplicated, to_tap.reordered,
           to_tap.overflow, (unsigned long long)st.ctr.tcp_retrans,
           (unsigned long long)st.ctr.tcp_fast_retrans, (unsigned long long)st.ctr.tcp_timeouts,
           (unsigned long long)st.ctr.tcp_ooo_segs, (unsigned long long)st.ctr.tcp_rst_out,
           (unsigned long long)st.ctr.tcp_challenge_acks);
    fflush(stdout);
    for (int i = 0; i < 2; i++) {
        free(cs[i]->tx.pat);
        free(cs[i]->rx_expect.pat);
    }
    free(mem);
    return c1.rx == size && c2.rx == size ? 0 : 1;
}
