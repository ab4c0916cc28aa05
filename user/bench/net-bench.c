/*
 * TCP through the netstack service, in guest instructions per KiB (issue
 * 16; make bench runs it with tools/bench-net.sh under
 * -icount shift=0,sleep=off, beside bench/linux-net's figure for Linux).
 *
 * Under icount rdtsc counts executed guest instructions, except that
 * while every CPU is halted the clock jumps to the next timer deadline,
 * and a transfer spends much of its time halted, waiting for the host
 * (QEMU's user network runs in QEMU's main loop). So each transfer reads
 * Timer.cpuTime before and after: busy = cpus * elapsed - idle is what
 * the machine executed for it (this program, netstack, the kernel and its
 * interrupts, and anything else that ran: nothing else does here).
 *
 * ROUNDS times: connect to tools/bench-net-host.py at 10.0.2.2:HOST_PORT
 * (the host's 127.0.0.1) and send BYTES (a 16-byte header "SEND" + u64
 * count, then 32 KiB TcpSocket.writes; the host answers the count it
 * received), then connect again and receive BYTES ("RECV" + count, then
 * 32 KiB reads to the end of the stream). The connect and the close are
 * outside the measurement. Prints per transfer
 *   net: <send|recv> round <n> bytes <b> elapsed <c> idle <c> busy <c> per-kib <i>
 * and, for tools/bench-net.sh's table, "bench: net-<send|recv>-per-kib <i>"
 * of the last round. Ends the lifetime link, so netstack exits and the
 * machine halts. Exits 0 if every transfer completed.
 *
 * Caps: "console", "timer", "manager" (NetworkManager: waits for the
 * address), "connect" (TcpConnector for 10.0.2.2:HOST_PORT), "lifetime".
 */
#include "bench.h"

#define HOST_PORT 47140
#define GATEWAY   0x0a000202u
#define ROUNDS    2
#define CHUNK     32768
/* user/bench/prof-net.c builds this file with NET_BENCH_PROFILE: 1 MiB
 * transfers, the second round's each between tools/qemu-profile.py's
 * markers. */
#ifdef NET_BENCH_PROFILE
#define BYTES (1u << 20)
#else
#define BYTES (8u << 20)
#endif

static uint8_t params[CHUNK + 1024] __attribute__((aligned(8)));
static uint8_t results[CHUNK + 1024] __attribute__((aligned(8)));
static uint8_t chunk[CHUNK];
static struct capnpc_call c;

static void call_init(void)
{
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
}

struct cpu_time {
    uint64_t cycles, idle;
    uint32_t cpus;
};

static struct cpu_time cpu_time(uint32_t timer)
{
    Timer_cpuTime_Results_r r;
    call_init();
    if (Timer_cpuTime_call(&capos_transport, timer, &c, &r) != CAPNPC_OK)
        capos_panic("net-bench: Timer.cpuTime failed");
    return (struct cpu_time){Timer_cpuTime_Results_get_cycles(r),
                             Timer_cpuTime_Results_get_idleCycles(r),
                             Timer_cpuTime_Results_get_cpus(r)};
}

static uint32_t dial(uint32_t conn, uint32_t timer)
{
    for (int tries = 0; tries < 60; tries++) {
        uint32_t rcap[1] = {0};
        TcpConnector_connect_Results_r r;
        call_init();
        capnpc_call_caps(&c, 0, 0, rcap, 1);
        if (TcpConnector_connect_call(&capos_transport, conn, &c, GATEWAY, HOST_PORT, &r) ==
                CAPNPC_OK &&
            c.reply.ncaps == 1)
            return rcap[0];
        bench_sleep(timer, 500000000);
    }
    return 0;
}

/* Everything of data[0..n) queued; false if the socket failed. */
static bool write_all(uint32_t s, const uint8_t *data, uint32_t n)
{
    while (n) {
        TcpSocket_write_Results_r r;
        call_init();
        if (TcpSocket_write_call(&capos_transport, s, &c, data, n, &r) != CAPNPC_OK)
            return false;
        uint32_t acc = TcpSocket_write_Results_get_accepted(r);
        if (acc == 0 || acc > n)
            return false;
        data += acc;
        n -= acc;
    }
    return true;
}

/* One read of at most max bytes into out; its length, 0 at the end of the
 * stream, -1 if the socket failed. */
static int32_t read_some(uint32_t s, uint8_t *out, uint32_t max)
{
    TcpSocket_read_Results_r r;
    call_init();
    if (TcpSocket_read_call(&capos_transport, s, &c, max, &r) != CAPNPC_OK)
        return -1;
    struct capn_data d = TcpSocket_read_Results_get_data(r);
    if (d.len > max)
        return -1;
    for (uint32_t i = 0; out && i < d.len; i++)
        out[i] = (uint8_t)d.ptr[i];
    return (int32_t)d.len;
}

/* One transfer on socket s; the bytes moved, or -1 with *why set. */
static int64_t transfer(uint32_t s, bool send, const char **why)
{
    uint8_t head[16] = {0};
    const char *dir = send ? "SEND" : "RECV";
    for (int i = 0; i < 4; i++)
        head[i] = (uint8_t)dir[i];
    for (int i = 0; i < 8; i++)
        head[4 + i] = (uint8_t)((uint64_t)BYTES >> (8 * i));
    if (!write_all(s, head, sizeof(head)))
        return *why = "writing the header failed", -1;
    uint64_t moved = 0;
    if (send) {
        while (moved < BYTES) {
            uint32_t n = BYTES - moved < CHUNK ? (uint32_t)(BYTES - moved) : CHUNK;
            if (!write_all(s, chunk, n))
                return *why = "a write failed", -1;
            moved += n;
        }
        uint8_t got[8];
        uint32_t have = 0;
        while (have < 8) {
            int32_t n = read_some(s, got + have, 8 - have);
            if (n <= 0)
                return *why = "the host's count did not come", -1;
            have += (uint32_t)n;
        }
        uint64_t count = 0;
        for (int i = 0; i < 8; i++)
            count |= (uint64_t)got[i] << (8 * i);
        if (count != moved)
            return *why = "the host received another count", -1;
    } else {
        int32_t n;
        while ((n = read_some(s, 0, CHUNK)) > 0)
            moved += (uint32_t)n;
        if (n < 0)
            return *why = "a read failed", -1;
    }
    return (int64_t)moved;
}

/* One measured transfer; its busy instructions per KiB, or -1. */
static int64_t measure(uint32_t conn, uint32_t timer, bool send, unsigned round)
{
    const char *what = send ? "send" : "recv", *why = "";
    uint32_t s = dial(conn, timer);
    if (!s) {
        capos_printf("bench-why: net-bench %s: could not connect to 10.0.2.2:%u\n", what,
                     HOST_PORT);
        return -1;
    }
#ifdef NET_BENCH_PROFILE
    if (round == ROUNDS)
        capos_printf("prof: start %s\n", what);
#endif
    struct cpu_time a = cpu_time(timer);
    int64_t moved = transfer(s, send, &why);
    struct cpu_time b = cpu_time(timer);
#ifdef NET_BENCH_PROFILE
    if (round == ROUNDS)
        capos_printf("prof: end %u\n", BYTES / 1024);
#endif
    call_init();
    TcpSocket_close_call(&capos_transport, s, &c, 0);
    capos_release(s);
    if (moved != BYTES) {
        capos_printf("bench-why: net-bench %s round %u: %s after %ld bytes\n", what, round, why,
                     (long)moved);
        return -1;
    }
    uint64_t elapsed = b.cycles - a.cycles, idle = b.idle - a.idle;
    uint64_t busy = b.cpus * elapsed - idle;
    uint64_t per_kib = busy * 1024 / BYTES;
    capos_printf("net: %s round %u bytes %u elapsed %lu idle %lu busy %lu per-kib %lu\n", what,
                 round, BYTES, elapsed, idle, busy, per_kib);
    return (int64_t)per_kib;
}

int main(void)
{
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t mgr = capos_capset_find("manager", NetworkManager_INTERFACE_ID, 0);
    uint32_t conn = capos_capset_find("connect", TcpConnector_INTERFACE_ID, 0);
    uint32_t life = capos_capset_find("lifetime", Echo_INTERFACE_ID, 0);
    if (!timer || !mgr || !conn || !life) {
        capos_printf("bench-why: net-bench needs timer, manager, connect and lifetime\n");
        return 1;
    }
    for (uint32_t i = 0; i < CHUNK; i++)
        chunk[i] = (uint8_t)(i * 7u + (i >> 8));
    /* The address comes with DHCP, a few (virtual) seconds after boot. */
    for (int i = 0; i < 80; i++) {
        NetworkManager_status_Results_r r;
        call_init();
        if (NetworkManager_status_call(&capos_transport, mgr, &c, &r) == CAPNPC_OK &&
            NetworkManager_status_Results_get_address(r))
            break;
        bench_sleep(timer, 250000000);
    }
    int64_t send = -1, recv = -1;
    for (unsigned r = 1; r <= ROUNDS; r++) {
        send = measure(conn, timer, true, r);
        recv = measure(conn, timer, false, r);
        if (send < 0 || recv < 0)
            break;
    }
    if (send >= 0 && recv >= 0) {
        capos_printf("bench: net-send-per-kib %ld\n", (long)send);
        capos_printf("bench: net-recv-per-kib %ld\n", (long)recv);
    }
    Echo_echo_Results_r er;
    call_init();
    Echo_echo_call(&capos_transport, life, &c, "end", 3, &er);
    return send >= 0 && recv >= 0 ? 0 : 1;
}
