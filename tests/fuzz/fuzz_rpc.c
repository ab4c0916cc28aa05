/*
 * libFuzzer target for the RPC engine (lib/rpc): arbitrary bytes as the
 * peer's stream, fed in pieces, to a host that answers calls at once, later
 * or with an exception. Beyond memory safety (ASan/UBSan), every reference
 * the engine was given must come back exactly once when the connection
 * closes; a leak or a double release traps.
 *
 * Input: byte 0 picks the limits (bit 0: small tables and messages), the
 * piece size (bits 4-7: 0 = all at once, else that many bytes) and whether
 * calls are answered later (bit 1) or fail (bit 2). With bit 3 clear the
 * rest is the stream. With bit 3 set it is a script of well-formed peer
 * messages with small, colliding ids (see run_script), which reaches the
 * deep states (pipelining chains, deferral, cancellation) that random bytes
 * rarely form.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peer.h"
#include "rpc/rpc.h"

#define OBJS 8

static struct rpc_conn conn;
static int refs[OBJS];
static uint32_t later[16], nlater;
static uint8_t mode;

static int on_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    /* Every message the engine sends must be a well-formed frame. */
    struct capn_seg segs[4];
    struct capn_msg m;
    if (capn_msg_read(&m, segs, 4, buf, len, NULL) != CAPN_OK)
        __builtin_trap();
    return 0;
}

static uint32_t on_bootstrap(void *ctx)
{
    refs[1]++;
    return 1;
}

static void on_release(void *ctx, uint32_t h)
{
    if (h >= OBJS || refs[h] <= 0)
        __builtin_trap(); /* released what it did not hold */
    refs[h]--;
}

static void answer(struct rpc_conn *c, uint32_t token, uint32_t target)
{
    /* Results: a struct whose pointer 0 is capability 0 (handle target+1). */
    static const uint8_t results[24] = {0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
                                        0, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0};
    uint32_t h = (target + 1) % OBJS;
    refs[h]++;
    rpc_conn_return(c, token, results, sizeof(results), &h, 1);
}

static void on_call(void *ctx, struct rpc_conn *c, const struct rpc_call *call)
{
    if (call->target >= OBJS)
        __builtin_trap(); /* a handle the host never gave */
    if (mode & 4) {
        rpc_conn_throw(c, call->answer, RPC_EXC_FAILED, "no");
    } else if ((mode & 2) && nlater < 16) {
        later[nlater++] = call->answer | call->target << 16;
    } else {
        answer(c, call->answer, call->target);
    }
}

static void answer_later(void)
{
    for (uint32_t i = 0; i < nlater; i++)
        answer(&conn, later[i] & 0xffff, later[i] >> 16);
    nlater = 0;
}

/* Script ops, two bytes each (op, argument), ids from the low bits:
 *   0 Bootstrap q       1 Call q on export      2 Call q on question's
 *   3 Finish q          4 Release export        results (path by arg)
 *   5 answers due now   6 raw bytes             7 Call q with method 99 */
static void run_script(const uint8_t *d, size_t n)
{
    static uint8_t msg[PEER_BUF + 8];
    uint16_t path[2];
    for (size_t i = 0; i + 1 < n && conn.state == RPC_OPEN; i += 2) {
        uint8_t op = d[i] & 7, a = d[i + 1];
        uint32_t q = (d[i] >> 3) & 15, len = 0;
        switch (op) {
        case 0:
            len = (uint32_t)peer_bootstrap(msg, q);
            break;
        case 1:
            len = (uint32_t)peer_call(msg, q, a & 7, a >> 6, "x");
            break;
        case 2:
            path[0] = a & 1;
            path[1] = (a >> 1) & 1;
            len = (uint32_t)peer_call_promise(msg, q, (a >> 2) & 15, path, a >> 7, 0, "y");
            break;
        case 3:
            len = (uint32_t)peer_finish(msg, q, a & 1);
            break;
        case 4:
            len = (uint32_t)peer_release(msg, a & 7, (a >> 3) & 3);
            break;
        case 5:
            answer_later();
            break;
        case 6: {
            size_t k = a < n - i - 2 ? a : n - i - 2;
            rpc_conn_feed(&conn, d + i + 2, k);
            i += k;
            break;
        }
        default:
            len = (uint32_t)peer_call(msg, q, a & 7, 99, "z");
            break;
        }
        if (len > 0)
            rpc_conn_feed(&conn, msg, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    mode = data[0];
    data++;
    size--;
    memset(refs, 0, sizeof(refs));
    nlater = 0;
    struct rpc_limits l;
    rpc_limits_default(&l);
    if (mode & 1) {
        l.max_msg = 1024;
        l.answers = 4;
        l.exports = 3;
        l.imports = 3;
        l.nest = 8;
    }
    struct rpc_host h = {NULL, on_send, on_bootstrap, on_call, on_release};
    rpc_conn_init(&conn, &h, &l);
    size_t piece = mode >> 4 ? mode >> 4 : size;
    if (mode & 8) {
        run_script(data, size);
    } else {
        for (size_t off = 0; off < size && conn.state == RPC_OPEN; off += piece) {
            size_t n = size - off < piece ? size - off : piece;
            rpc_conn_feed(&conn, data + off, n);
            if (off % 64 == 0)
                answer_later();
        }
    }
    answer_later();
    rpc_conn_close(&conn);
    for (int i = 0; i < OBJS; i++)
        if (refs[i] != 0)
            __builtin_trap(); /* a reference never given back */
    return 0;
}
