/*
 * lifetime: the end of a test system's resident services.
 *
 * Resident services wait for calls forever, so a system that has them never
 * reaches "every process has exited" and the kernel never halts. A service
 * whose CapSet has "lifetime" (a client of this program's Echo export)
 * keeps one call on it open (user/services/svc.h) and exits when that call
 * completes. This program answers none of those calls; an Echo call with
 * the text "end" (from the test program, once it is done) is answered and
 * then the program exits: its endpoint closes, every call still open on it
 * completes with `disconnected`, and the services exit after it.
 *
 * Caps: "lifetime" (the Echo endpoint it owns), "console" (optional).
 */
#include "capos_rt.h"

#include <string.h>

#include "capnp/capnpc_rt.h"
#include "capos.capnp.h"

static uint8_t buf[4096] __attribute__((aligned(8)));
static uint8_t reply[256] __attribute__((aligned(8)));

static int32_t submit_wait(struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    sqe->user_data = capos_ring_next_id();
    if (!capos_ring_submit(sqe) || !capos_ring_wait(sqe->user_data, cqe))
        return CAPOS_E_INTERNAL;
    return cqe->result;
}

/* The Echo results for the "end" call: the text "ended". */
static size_t ended_reply(void)
{
    uint8_t arena[128] __attribute__((aligned(8)));
    struct capn_seg seg;
    struct capn_bld b;
    size_t len = 0;
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    Echo_echo_Results_set_text(Echo_echo_Results_build_root(&b), "ended", 5);
    capn_bld_write(&b, reply, sizeof(reply), &len);
    return len;
}

int main(void)
{
    const char *why = "";
    uint32_t ep = capos_capset_find("lifetime", Echo_INTERFACE_ID, &why);
    if (!ep) {
        capos_printf("lifetime: needs the \"lifetime\" Echo endpoint in its CapSet: %s\n", why);
        return 1;
    }
    unsigned held = 0;
    for (;;) {
        struct capos_sqe rs = {.opcode = CAPOS_OP_RECV,
                               .cap = ep,
                               .result_addr = (uint64_t)buf,
                               .result_len = sizeof(buf)};
        struct capos_cqe rc;
        int32_t r = submit_wait(&rs, &rc);
        if (r == CAPOS_E_RESULT_TOO_SMALL) {
            /* Too big to be "end": the message stays queued and would be
             * offered again, so nothing more can be received. */
            capos_printf("lifetime: a call larger than %u bytes arrived; ending now\n",
                         (unsigned)sizeof(buf));
            return 1;
        }
        if (r < 0) {
            capos_printf("lifetime: RECV failed (%d); ending\n", r);
            return 1;
        }
        const struct capos_recv_header *h = (const void *)buf;
        for (uint32_t i = 0; i < h->cap_count && i < CAPOS_MAX_XFER; i++)
            capos_release(((const struct capos_cap_record *)(buf + sizeof(*h)))[i].cap);
        capos_flush_releases();
        struct capn_seg segs[2];
        struct capn_msg msg;
        bool end = false;
        if (h->method == Echo_echo_METHOD && h->params_offset <= sizeof(buf) &&
            h->params_len <= sizeof(buf) - h->params_offset &&
            capn_msg_read(&msg, segs, 2, buf + h->params_offset, h->params_len, 0) == CAPN_OK) {
            struct capn_text t = Echo_echo_Params_get_text(Echo_echo_Params_read_root(&msg));
            end = capn_ok(&msg) && t.len == 3 && memcmp(t.str, "end", 3) == 0;
        }
        if (!end) {
            held++; /* answered only by our exit */
            continue;
        }
        size_t len = ended_reply();
        struct capos_sqe ret = {.opcode = CAPOS_OP_RETURN,
                                .cap = ep,
                                .call_id = rc.call_id,
                                .params_addr = (uint64_t)reply,
                                .params_len = (uint32_t)len};
        struct capos_cqe retc;
        submit_wait(&ret, &retc);
        capos_printf("lifetime: asked to end; releasing %u services\n", held);
        return 0;
    }
}
