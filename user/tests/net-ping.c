/*
 * QEMU test program: NetworkInterface end to end, against QEMU's user
 * network (slirp), whose gateway 10.0.2.2 answers ARP and ping.
 *
 * As 10.0.2.15: send an ARP request for 10.0.2.2 and check the reply (it
 * is for us, says 10.0.2.2 is at some MAC); then an ICMP echo request to
 * that MAC and check the echo reply (addresses, id, sequence, payload and
 * both checksums). Then a burst of echo requests whose replies are read
 * with receiveMany (every answer within what the result buffer holds,
 * every reply once), a result buffer too small for receiveMany, and one
 * that is not mapped, 40 times, after which the device's receive queue
 * must still work (no buffer kept by a failed answer). Then
 * the send lengths the kernel must refuse with
 * typed errors (0, 13, MTU+15 and 60000 bytes), and info's counters.
 * Last, two receives are left waiting: one is cancelled (it completes
 * with CAPOS_E_CANCELLED), the other is abandoned by exiting (the kernel
 * frees its waiter; the ledger audit at halt shows nothing leaked).
 * Exits with the number of failed checks.
 */
#include <capos/errors.h>

#include "testlib.h"

#define ETH_ARP         0x0806
#define ETH_IPV4        0x0800
#define MAX_FRAME       1514
#define MAX_WAIT_FRAMES 32 /* unrelated frames skipped while waiting */

static const uint8_t my_ip[4] = {10, 0, 2, 15};
static const uint8_t gw_ip[4] = {10, 0, 2, 2};

static uint8_t params[65536 + 64] __attribute__((aligned(8)));
static uint8_t results[4096] __attribute__((aligned(8)));
static uint8_t my_mac[6], gw_mac[6];
static uint32_t net;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The Internet checksum (RFC 1071); 0 over data that carries a good one. */
static uint16_t inet_sum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += get16(p + i);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static struct capnpc_call sc; /* the last send's call, for its exception */

/* send(frame); the stub's status (CAPNPC_OK, CAPNPC_EXCEPTION, or a
 * negative transport error). */
static int send_frame(const uint8_t *f, uint32_t len)
{
    capnpc_call_init(&sc, params, sizeof(params), results, sizeof(results));
    return NetworkInterface_send_call(&capos_transport, net, &sc, f, len, 0);
}

/* The next frame for which match() holds, skipping others; its length. */
static uint32_t wait_frame(uint8_t *out, bool (*match)(const uint8_t *, uint32_t))
{
    for (int i = 0; i < MAX_WAIT_FRAMES; i++) {
        struct capnpc_call c;
        NetworkInterface_receive_Results_r r;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        if (NetworkInterface_receive_call(&capos_transport, net, &c, &r) != CAPNPC_OK)
            return 0;
        struct capn_data d = NetworkInterface_receive_Results_get_frame(r);
        if (d.len > MAX_FRAME)
            return 0;
        memcpy(out, d.ptr, d.len);
        if (match(out, d.len))
            return d.len;
        capos_printf("net-ping: skipped a frame of %u bytes (ethertype 0x%x)\n", d.len,
                     d.len >= 14 ? get16(out + 12) : 0);
    }
    return 0;
}

static bool is_arp_reply(const uint8_t *f, uint32_t len)
{
    return len >= 42 && get16(f + 12) == ETH_ARP && get16(f + 20) == 2 &&
           memcmp(f + 28, gw_ip, 4) == 0 && memcmp(f + 38, my_ip, 4) == 0;
}

static bool is_echo_reply(const uint8_t *f, uint32_t len)
{
    return len >= 42 && get16(f + 12) == ETH_IPV4 && f[23] == 1 && f[34] == 0;
}

static void arp(void)
{
    uint8_t f[42];
    memset(f, 0xff, 6);
    memcpy(f + 6, my_mac, 6);
    put16(f + 12, ETH_ARP);
    put16(f + 14, 1);        /* Ethernet */
    put16(f + 16, ETH_IPV4); /* IPv4 */
    f[18] = 6;
    f[19] = 4;
    put16(f + 20, 1); /* request */
    memcpy(f + 22, my_mac, 6);
    memcpy(f + 28, my_ip, 4);
    memset(f + 32, 0, 6);
    memcpy(f + 38, gw_ip, 4);
    CHECK(send_frame(f, sizeof(f)) == CAPNPC_OK, "ARP request for 10.0.2.2 sent");
    uint8_t r[MAX_FRAME];
    uint32_t n = wait_frame(r, is_arp_reply);
    CHECK(n && memcmp(r, my_mac, 6) == 0 && memcmp(r + 32, my_mac, 6) == 0,
          "ARP reply: 10.0.2.2 is at %02x:%02x:%02x:%02x:%02x:%02x", r[22], r[23], r[24], r[25],
          r[26], r[27]);
    memcpy(gw_mac, r + 22, 6);
}

enum { PAYLOAD = 32, IP_LEN = 20 + 8 + PAYLOAD, ECHO_LEN = 14 + IP_LEN };

/* An ICMP echo request from us to 10.0.2.2, id 0xcafe, sequence seq. */
static void build_echo(uint8_t *f, uint16_t seq)
{
    memcpy(f, gw_mac, 6);
    memcpy(f + 6, my_mac, 6);
    put16(f + 12, ETH_IPV4);
    uint8_t *ip = f + 14, *icmp = ip + 20;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, IP_LEN);
    put16(ip + 4, 0x4321);
    put16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = 64;
    ip[9] = 1; /* ICMP */
    memcpy(ip + 12, my_ip, 4);
    memcpy(ip + 16, gw_ip, 4);
    put16(ip + 10, inet_sum(ip, 20));
    icmp[0] = 8; /* echo request */
    icmp[1] = 0;
    put16(icmp + 2, 0);
    put16(icmp + 4, 0xcafe);
    put16(icmp + 6, seq);
    for (int i = 0; i < PAYLOAD; i++)
        icmp[8 + i] = (uint8_t)('a' + i % 26);
    put16(icmp + 2, inet_sum(icmp, 8 + PAYLOAD));
}

/* r (n bytes) is a good echo reply from 10.0.2.2 to us: its IPv4 header. */
static bool echo_reply_ip_ok(const uint8_t *r, uint32_t n)
{
    const uint8_t *rip = r + 14;
    return n >= ECHO_LEN && (rip[0] & 0xf) == 5 && get16(rip + 2) == IP_LEN &&
           inet_sum(rip, 20) == 0 && memcmp(rip + 12, gw_ip, 4) == 0 &&
           memcmp(rip + 16, my_ip, 4) == 0 && memcmp(r, my_mac, 6) == 0;
}

/* ... and its ICMP part: id 0xcafe, sequence seq, our payload back. */
static bool echo_reply_icmp_ok(const uint8_t *r, uint16_t seq)
{
    const uint8_t *ricmp = r + 34;
    uint8_t f[ECHO_LEN];
    build_echo(f, seq);
    return get16(ricmp + 4) == 0xcafe && get16(ricmp + 6) == seq &&
           inet_sum(ricmp, 8 + PAYLOAD) == 0 && memcmp(ricmp + 8, f + 42, PAYLOAD) == 0;
}

static void ping(void)
{
    uint8_t f[ECHO_LEN];
    build_echo(f, 1);
    CHECK(send_frame(f, sizeof(f)) == CAPNPC_OK, "ICMP echo request to 10.0.2.2 sent");

    uint8_t r[MAX_FRAME];
    uint32_t n = wait_frame(r, is_echo_reply);
    bool ok = echo_reply_ip_ok(r, n);
    CHECK(ok, "echo reply: IPv4 header from 10.0.2.2 to 10.0.2.15, checksum good");
    ok = ok && echo_reply_icmp_ok(r, 1);
    CHECK(ok, "echo reply: id 0xcafe, sequence 1, 32-byte payload back, checksum good");
}

/*
 * receiveMany: BURST echo requests sent back to back, their replies read
 * with a result buffer that holds exactly two full-size frames, so that
 * every answer must hold one or two frames, and none may be lost or come
 * twice. A buffer one byte smaller than one full-size frame needs is
 * refused with invalidArgument.
 */
#define BURST 4
static uint8_t many_results[16384 + 8] __attribute__((aligned(8)));

static int receive_many(uint32_t result_size, NetworkInterface_receiveMany_Results_r *r,
                        struct capnpc_call *c)
{
    capnpc_call_init(c, params, sizeof(params), many_results, result_size);
    return NetworkInterface_receiveMany_call(&capos_transport, net, c, r);
}

static void ping_burst(uint16_t mtu)
{
    uint32_t full = 8 + ((uint32_t)mtu + 14 + 7) / 8 * 8;
    struct capnpc_call c;
    NetworkInterface_receiveMany_Results_r r;
    int rc = receive_many(24 + full - 1, &r, &c);
    CapException_r e = CapException_read_root(&c.msg);
    CHECK(rc == CAPNPC_EXCEPTION && CapException_get_type(e) == CapException_Type_invalidArgument,
          "receiveMany with a result buffer of %u bytes (one full frame needs %u) refused: %d",
          24 + full - 1, 24 + full, rc);

    for (uint16_t seq = 2; seq < 2 + BURST; seq++) {
        uint8_t f[ECHO_LEN];
        build_echo(f, seq);
        CHECK(send_frame(f, sizeof(f)) == CAPNPC_OK, "echo request %u of the burst sent", seq);
    }
    unsigned seen[BURST] = {0}, got = 0, answers = 0, most = 0, bad = 0;
    for (int calls = 0; got < BURST && calls < MAX_WAIT_FRAMES; calls++) {
        rc = receive_many(24 + 2 * full, &r, &c);
        List_Data_r frames = NetworkInterface_receiveMany_Results_get_frames(r);
        uint32_t n = rc == CAPNPC_OK ? List_Data_len(frames) : 0;
        CHECK(rc == CAPNPC_OK && n >= 1 && n <= 2,
              "receiveMany answer %u: %u frames (1 or 2 fit the buffer), status %d", answers, n,
              rc);
        if (rc != CAPNPC_OK)
            break;
        answers++;
        most = n > most ? n : most;
        for (uint32_t i = 0; i < n; i++) {
            struct capn_data d = List_Data_get(frames, i);
            if (!is_echo_reply(d.ptr, d.len))
                continue; /* something else slirp sent */
            uint16_t seq = get16(d.ptr + 40);
            if (seq < 2 || seq >= 2 + BURST || !echo_reply_ip_ok(d.ptr, d.len) ||
                !echo_reply_icmp_ok(d.ptr, seq)) {
                bad++;
                continue;
            }
            seen[seq - 2]++;
            got++;
        }
    }
    bool once = true;
    for (int i = 0; i < BURST; i++)
        once = once && seen[i] == 1;
    CHECK(once && bad == 0,
          "receiveMany: each of the %d echo replies once, intact (%u answers, at most %u frames "
          "in one, %u bad)",
          BURST, answers, most, bad);
}

/*
 * receiveMany into a result buffer that is not mapped, again and again,
 * each time with an echo reply on its way: every answer fails to reach
 * us, and every frame it took from the device must still go back to the
 * receive queue (32 buffers). More rounds than the queue has buffers, then
 * a ping that must still come back: a leaked buffer per failed answer
 * would have emptied the queue.
 */
#define LOST_ROUNDS 40

/* An empty struct as params: one segment of one word, the root pointer. */
static const uint64_t empty_params[2] = {(uint64_t)1 << 32, 0xfffffffcu};

/* A raw CALL of a NetworkInterface method without params. */
static struct capos_sqe net_call_sqe(uint16_t method, uint64_t result_addr, uint32_t result_len)
{
    return (struct capos_sqe){.opcode = CAPOS_OP_CALL,
                              .method = method,
                              .cap = net,
                              .interface_id = NetworkInterface_INTERFACE_ID,
                              .params_addr = (uint64_t)empty_params,
                              .params_len = sizeof(empty_params),
                              .result_addr = result_addr,
                              .result_len = result_len,
                              .user_data = capos_ring_next_id()};
}

static void unmapped_results(void)
{
    int refused = 0;
    for (uint16_t i = 0; i < LOST_ROUNDS; i++) {
        uint8_t f[ECHO_LEN];
        build_echo(f, (uint16_t)(100 + i));
        if (send_frame(f, sizeof(f)) != CAPNPC_OK)
            break;
        struct capos_sqe sqe = net_call_sqe(NetworkInterface_receiveMany_METHOD,
                                            0x7fff00000000ull, /* nothing mapped there */
                                            16384 + 8);
        struct capos_cqe c = {0};
        if (!capos_ring_submit(&sqe) || !capos_ring_wait(sqe.user_data, &c))
            break;
        refused += c.result == CAPOS_E_BAD_ADDRESS;
    }
    CHECK(refused == LOST_ROUNDS,
          "receiveMany into an unmapped result buffer: %d of %d answers refused with "
          "CAPOS_E_BAD_ADDRESS",
          refused, LOST_ROUNDS);
    uint8_t f[ECHO_LEN];
    build_echo(f, 7);
    uint8_t r[MAX_FRAME];
    uint32_t n = send_frame(f, sizeof(f)) == CAPNPC_OK ? wait_frame(r, is_echo_reply) : 0;
    CHECK(n && echo_reply_ip_ok(r, n) && echo_reply_icmp_ok(r, 7),
          "after %d lost answers the receive queue still works: echo reply, sequence 7",
          LOST_ROUNDS);
}

static void bad_lengths(uint16_t mtu)
{
    static uint8_t big[60000];
    memset(big, 0xff, sizeof(big));
    const uint32_t lens[] = {0, 13, (uint32_t)mtu + 15u, sizeof(big)};
    for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        int rc = send_frame(big, lens[i]);
        bool ex = rc == CAPNPC_EXCEPTION;
        CapException_r e = CapException_read_root(&sc.msg);
        struct capn_text m = ex ? CapException_get_message(e) : (struct capn_text){0};
        CHECK(ex && CapException_get_type(e) == CapException_Type_invalidArgument,
              "send of %u bytes refused: %s: %.*s", lens[i],
              ex ? CapException_Type_NAMES[CapException_get_type(e)] : "not an exception",
              (int)m.len, m.str ? m.str : "");
    }
}

static uint8_t async_results[2][2048] __attribute__((aligned(8)));

static uint64_t receive_async(int i)
{
    struct capos_sqe sqe = net_call_sqe(NetworkInterface_receive_METHOD,
                                        (uint64_t)async_results[i], sizeof(async_results[i]));
    capos_ring_submit(&sqe);
    return sqe.user_data;
}

static void leave_receives_waiting(void)
{
    uint64_t first = receive_async(0);
    receive_async(1);
    struct capos_sqe sqe = {
        .opcode = CAPOS_OP_CANCEL, .target_user_data = first, .user_data = capos_ring_next_id()};
    capos_ring_submit(&sqe);
    struct capos_cqe c = {0};
    capos_ring_wait(first, &c);
    CHECK(c.result == CAPOS_E_CANCELLED, "a waiting receive cancelled: %d", c.result);
}

int main(void)
{
    net = capos_capset_find("network", NetworkInterface_INTERFACE_ID, 0);
    CHECK(net != 0, "capset: network found as a NetworkInterface");
    if (!net)
        return 1;
    struct capnpc_call c;
    NetworkInterface_info_Results_r ir;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = NetworkInterface_info_call(&capos_transport, net, &c, &ir);
    NetworkInfo_r info = NetworkInterface_info_Results_get_info(ir);
    struct capn_data mac = NetworkInfo_get_mac(info);
    uint16_t mtu = NetworkInfo_get_mtu(info);
    CHECK(rc == CAPNPC_OK && mac.len == 6 && mtu >= 68,
          "info: MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u, link %s", mac.len == 6 ? mac.ptr[0] : 0,
          mac.len == 6 ? mac.ptr[1] : 0, mac.len == 6 ? mac.ptr[2] : 0,
          mac.len == 6 ? mac.ptr[3] : 0, mac.len == 6 ? mac.ptr[4] : 0,
          mac.len == 6 ? mac.ptr[5] : 0, mtu, NetworkInfo_get_linkUp(info) ? "up" : "down");
    if (rc != CAPNPC_OK || mac.len != 6)
        return 1;
    memcpy(my_mac, mac.ptr, 6);

    arp();
    ping();
    ping_burst(mtu);
    unmapped_results();
    bad_lengths(mtu);

    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = NetworkInterface_info_call(&capos_transport, net, &c, &ir);
    info = NetworkInterface_info_Results_get_info(ir);
    CHECK(rc == CAPNPC_OK && NetworkInfo_get_txFrames(info) == 3 + BURST + LOST_ROUNDS &&
              NetworkInfo_get_rxFrames(info) >= 2 && NetworkInfo_get_deviceErrors(info) == 0,
          "info: %lu frames sent, %lu received, %lu device errors",
          (unsigned long)NetworkInfo_get_txFrames(info),
          (unsigned long)NetworkInfo_get_rxFrames(info),
          (unsigned long)NetworkInfo_get_deviceErrors(info));
    leave_receives_waiting();
    capos_printf("net-ping: %d failures\n", failures);
    return failures;
}
