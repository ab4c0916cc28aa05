/*
 * netstack: the event loop. One thread owns the lib/net stack and waits,
 * with a single capos_cap_enter, for whichever comes first: the frames of
 * the NetworkInterface.receiveMany it always keeps in flight (a deferred
 * completion, every frame waiting in one answer), a call on one of its endpoints (objs.c), the end of the
 * optional lifetime link, or the stack's next timer (net_next_deadline,
 * as the cap_enter timeout; the clock is Timer.now).
 *
 * Caps: "network" (NetworkInterface), "timer", "entropy" (the ISN secret),
 * "endpoints" (EndpointFactory, for listeners and sockets), "vm" (heap),
 * "console"; optional "lifetime" (Echo: exit when it ends); the scopes it
 * serves are its exports, by name (objs.c).
 */
#include "netstack.h"

#include <string.h>

#include "text/fmt.h"

struct ns ns;

static uint8_t params[NS_IO_MAX + 1024] __attribute__((aligned(8)));
static uint8_t results[4096] __attribute__((aligned(8)));
/* Room for 10 full-size frames per NetworkInterface.receiveMany answer,
 * as many as the kernel's results arena holds. */
static uint8_t rx_results[16384 + 8] __attribute__((aligned(8)));
static struct capnpc_call rx_call, life_call;
static uint64_t rx_ud, life_ud;
static uint64_t tx_refused;

static uint32_t need(const char *name, uint64_t iface)
{
    return capos_capset_need("netstack", name, iface);
}

static uint64_t now_ms(void)
{
    struct capnpc_call c;
    Timer_now_Results_r r;
    capnpc_call_init(&c, params, 64, results, sizeof(results));
    if (Timer_now_call(&capos_transport, ns.timer, &c, &r) != CAPNPC_OK)
        capos_panic("netstack: Timer.now failed");
    uint64_t ms = Timer_now_Results_get_ns(r) / 1000000u;
    return ms > ns.now ? ms : ns.now; /* never back */
}

/* Frames the device refused (every transmit buffer in flight), kept in
 * order and sent again before anything newer: a bounded queue, so that a
 * burst does not cost TCP a retransmission timeout. */
#define TXQ 64
static uint8_t txq[TXQ][ETH_FRAME_MAX];
static uint16_t txq_len[TXQ];
static unsigned txq_head, txq_n;
static uint64_t tx_dropped;

static bool nic_send(const uint8_t *frame, size_t len)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = NetworkInterface_send_call(&capos_transport, ns.nic, &c, frame, (uint32_t)len, 0);
    if (rc == CAPNPC_EXCEPTION &&
        CapException_get_type(CapException_read_root(&c.msg)) == CapException_Type_overloaded)
        return false;
    if (rc != CAPNPC_OK)
        tx_dropped++; /* refused for good: counted, TCP resends */
    return true;
}

/* Send what waits; true if the queue is empty. */
static bool txq_flush(void)
{
    while (txq_n) {
        if (!nic_send(txq[txq_head], txq_len[txq_head]))
            return false;
        txq_head = (txq_head + 1) % TXQ;
        txq_n--;
    }
    return true;
}

/* lib/net's output: one frame, sent before the entry point returns. */
static void emit(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    if (len > ETH_FRAME_MAX) {
        tx_dropped++;
        return;
    }
    if (txq_flush() && nic_send(frame, len))
        return;
    tx_refused++;
    if (txq_n == TXQ) { /* the oldest goes: TCP resends it */
        txq_head = (txq_head + 1) % TXQ;
        txq_n--;
        tx_dropped++;
    }
    unsigned at = (txq_head + txq_n++) % TXQ;
    memcpy(txq[at], frame, len);
    txq_len[at] = (uint16_t)len;
}

static void post_receive(void)
{
    capnpc_call_init(&rx_call, params, 64, rx_results, sizeof(rx_results));
    NetworkInterface_receiveMany_begin(&rx_call);
    rx_ud = capos_ring_next_id();
    if (!capos_call_start(&rx_call, ns.nic, NetworkInterface_INTERFACE_ID,
                          NetworkInterface_receiveMany_METHOD, rx_ud))
        capos_panic("netstack: could not queue NetworkInterface.receiveMany");
}

static void on_frame(const struct capos_cqe *cqe)
{
    struct capn_struct root;
    int rc = capos_call_finish(&rx_call, cqe, &root);
    rx_ud = 0;
    if (rc != CAPNPC_OK)
        capos_panic("netstack: NetworkInterface.receiveMany failed (%d)", rc);
    NetworkInterface_receiveMany_Results_r r = {root};
    List_Data_r frames = NetworkInterface_receiveMany_Results_get_frames(r);
    for (uint32_t i = 0; i < List_Data_len(frames); i++) {
        struct capn_data d = List_Data_get(frames, i);
        if (d.ptr && d.len) {
            ns_share_backlogs(); /* SYNs find each listener's room as it is now */
            net_input(&ns.st, d.ptr, d.len, ns.now);
        }
    }
}

static const char *ip_str(uint32_t ip, char *b)
{
    fmt_snprintf(b, 16, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
    return b;
}

/* The guest side of the ping check: one echo request to the gateway once
 * an address is configured, the reply reported on the console. */
static void on_echo(void *ctx, uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data,
                    size_t len)
{
    (void)ctx;
    (void)data;
    if (id == NS_PING_ID) {
        ns_ping_reply(src, id, seq); /* a program's NetworkManager.ping */
        return;
    }
    char a[16];
    capos_printf("netstack: echo reply from %s: id %u sequence %u, %u bytes\n", ip_str(src, a), id,
                 seq, (unsigned)len);
}

static void report_address(void)
{
    if (ns.printed_addr || !ns.st.ip)
        return;
    ns.printed_addr = true;
    char a[16], m[16], g[16];
    capos_printf("netstack: address %s netmask %s gateway %s (%s)\n", ip_str(ns.st.ip, a),
                 ip_str(ns.st.netmask, m), ip_str(ns.st.gateway, g),
                 ns.st.dhcp.state == DHCP_FALLBACK ? "static fallback"
                 : ns.st.dhcp.state == DHCP_OFF    ? "static, no DHCP"
                                                   : "DHCP");
    static const char payload[] = "capOS netstack ping";
    if (ns.st.gateway)
        net_ping(&ns.st, ns.st.gateway, 0x6e73, 1, payload, sizeof(payload) - 1, ns.now);
}

static void setup(void)
{
    ns.nic = need("network", NetworkInterface_INTERFACE_ID);
    ns.timer = need("timer", Timer_INTERFACE_ID);
    ns.endpoints = need("endpoints", EndpointFactory_INTERFACE_ID);
    uint32_t entropy = need("entropy", EntropySource_INTERFACE_ID);

    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    net_config_qemu(&cfg);
    ns_config_from_exports(&cfg);
    struct capnpc_call c;
    NetworkInterface_info_Results_r ir;
    capnpc_call_init(&c, params, 64, results, sizeof(results));
    if (NetworkInterface_info_call(&capos_transport, ns.nic, &c, &ir) != CAPNPC_OK) {
        /* The kernel found no virtio-net device (a system booted without
         * one): nothing to serve. Our endpoints close as we exit, and
         * clients' calls fail with `disconnected`. */
        capos_printf("netstack: NetworkInterface.info failed: no network device; exiting\n");
        capos_exit(0);
    }
    NetworkInfo_r info = NetworkInterface_info_Results_get_info(ir);
    struct capn_data mac = NetworkInfo_get_mac(info);
    if (mac.len != ETH_ALEN || NetworkInfo_get_mtu(info) < 1500)
        capos_panic("netstack: the device reports a %u-byte MAC and MTU %u; expected 6 and 1500",
                    mac.len, NetworkInfo_get_mtu(info));
    memcpy(cfg.mac, mac.ptr, ETH_ALEN);

    EntropySource_fill_Results_r er;
    capnpc_call_init(&c, params, 64, results, sizeof(results));
    if (EntropySource_fill_call(&capos_transport, entropy, &c, sizeof(cfg.isn_secret), &er) !=
            CAPNPC_OK ||
        EntropySource_fill_Results_get_bytes(er).len != sizeof(cfg.isn_secret))
        capos_panic("netstack: EntropySource.fill failed");
    memcpy(cfg.isn_secret, EntropySource_fill_Results_get_bytes(er).ptr, sizeof(cfg.isn_secret));

    /* Charged to our own quota: the pool, the rings, the RECV buffers. */
    static struct net_mem mem;
    mem.nconns = NS_CONNS;
    mem.sndbuf = mem.rcvbuf = NS_BUF;
    mem.conns = capos_malloc(sizeof(struct tcp_conn) * NS_CONNS);
    mem.bufmem = capos_malloc((size_t)NS_CONNS * 2 * NS_BUF);
    if (!mem.conns || !mem.bufmem)
        capos_panic("netstack: no memory for %u connections of 2 x %u bytes", NS_CONNS, NS_BUF);
    ns.now = now_ms();
    net_init(&ns.st, &cfg, &mem, emit, 0, ns.now);
    net_set_echo_handler(&ns.st, on_echo, 0);
    char a[16], g[16];
    unsigned prefix = 0;
    for (uint32_t m = cfg.netmask; m; m <<= 1)
        prefix++;
    capos_printf("netstack: MAC %02x:%02x:%02x:%02x:%02x:%02x, %s %s/%u gateway %s\n", cfg.mac[0],
                 cfg.mac[1], cfg.mac[2], cfg.mac[3], cfg.mac[4], cfg.mac[5],
                 cfg.dhcp ? "DHCP, fallback" : "static (no DHCP)", ip_str(cfg.ip, a), prefix,
                 cfg.gateway ? ip_str(cfg.gateway, g) : "none");
}

static void hold_lifetime(void)
{
    uint32_t life = capos_capset_find("lifetime", Echo_INTERFACE_ID, 0);
    if (!life)
        return;
    static uint8_t lp[256] __attribute__((aligned(8))), lr[256] __attribute__((aligned(8)));
    capnpc_call_init(&life_call, lp, sizeof(lp), lr, sizeof(lr));
    Echo_echo_Params_b p = Echo_echo_begin(&life_call);
    Echo_echo_Params_set_text(p, "netstack", 8);
    life_ud = capos_ring_next_id();
    if (!capos_call_start(&life_call, life, Echo_INTERFACE_ID, Echo_echo_METHOD, life_ud))
        capos_panic("netstack: could not hold the lifetime link");
}

/* One completion; false when the lifetime link ended (exit). */
static bool on_cqe(const struct capos_cqe *cqe)
{
    if (cqe->user_data == rx_ud) {
        on_frame(cqe);
        return true;
    }
    if (life_ud && cqe->user_data == life_ud) {
        capos_printf("netstack: lifetime ended; %lu frames in, %lu out; the device was busy "
                     "for %lu (queued), %lu dropped; %lu objects ended by their release\n",
                     (unsigned long)ns.st.ctr.rx_frames, (unsigned long)ns.st.ctr.tx_frames,
                     (unsigned long)tx_refused, (unsigned long)tx_dropped,
                     (unsigned long)ns.released);
        return false;
    }
    ns_on_cqe(cqe);
    return true;
}

int main(void)
{
    setup();
    ns_objs_init();
    ns_share_init();
    hold_lifetime();
    for (;;) {
        if (!rx_ud)
            post_receive();
        ns_post_recvs();
        /* The clock is read once per pass, not per completion: Timer.now
         * is a kernel call, and a pass takes well under its millisecond
         * resolution (it was two calls per frame received,
         * docs/benchmarks.md, "TCP through the netstack service"). */
        ns.now = now_ms();
        struct capos_cqe cqe;
        while (capos_ring_take_any(&cqe))
            if (!on_cqe(&cqe))
                return 0;
        net_poll(&ns.st, ns.now);
        report_address();
        while (ns_progress())
            ;
        uint64_t dl = ns_deadline(net_next_deadline(&ns.st));
        uint64_t timeout = UINT64_MAX;
        if (dl != NET_NEVER)
            timeout = dl > ns.now ? (dl - ns.now) * 1000000u : 0;
        if (!txq_flush() && timeout > 200000u)
            timeout = 200000u; /* refused frames: try again in 0.2 ms */
        if (!rx_ud)
            post_receive();
        ns_post_recvs();
        /* The synchronous calls above (sends, RETURNs, Timer.now) stash
         * completions that arrive meanwhile; block only with none left. */
        if (capos_ring_take_any(&cqe)) {
            if (!on_cqe(&cqe))
                return 0;
            continue;
        }
        if (timeout)
            capos_cap_enter(1, timeout);
    }
}
