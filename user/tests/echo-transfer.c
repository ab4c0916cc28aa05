/*
 * QEMU test program: capability transfer and session references through
 * endpoint IPC. Needs "echo" and "echo2" (two Echo servers), "console" and
 * "timer". Prints one line per check; exits 0 when all passed.
 */
#include "capos_rt.h"

#include <string.h>

#include "capnp/capnpc_rt.h"
#include "capos.capnp.h"
#include "testlib.h"

static uint8_t params[256] __attribute__((aligned(8)));
static uint8_t results[256] __attribute__((aligned(8)));

/* Echo.echo with explicit transfer descriptors; the CQE's result, and the
 * answer in *answer. */
static int32_t echo_xfer(uint32_t ep, const char *text, const struct capos_xfer *x, uint16_t nx,
                         struct capn_text *answer)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Echo_echo_Params_b p = Echo_echo_begin(&c);
    Echo_echo_Params_set_text(p, text, (uint32_t)strlen(text));
    size_t hlen;
    capn_frame_header(c.bld.segs, 1, c.params, 8, &hlen);
    struct capos_sqe sqe = {.opcode = CAPOS_OP_CALL,
                            .cap = ep,
                            .interface_id = Echo_INTERFACE_ID,
                            .method = Echo_echo_METHOD,
                            .params_addr = (uint64_t)params,
                            .params_len = (uint32_t)(8 + c.pseg.words * 8),
                            .result_addr = (uint64_t)results,
                            .result_len = sizeof(results),
                            .xfer_addr = nx ? (uint64_t)x : 0,
                            .xfer_count = nx,
                            .user_data = capos_ring_next_id()};
    struct capos_cqe cqe;
    capos_ring_submit(&sqe);
    capos_ring_wait(sqe.user_data, &cqe);
    if (cqe.result == 0 && answer) {
        struct capn_seg segs[2];
        struct capn_msg m;
        capn_msg_read(&m, segs, 2, results, cqe.result_len, 0);
        *answer = Echo_echo_Results_get_text(Echo_echo_Results_read_root(&m));
    }
    return cqe.result;
}

static void session_of(uint32_t ep, char out[33])
{
    struct capn_text t = {0};
    echo_xfer(ep, "session", 0, 0, &t);
    memset(out, 0, 33);
    memcpy(out, t.str, t.len < 32 ? t.len : 32);
}

int main(void)
{
    uint32_t echo = capos_capset_find("echo", Echo_INTERFACE_ID, 0);
    uint32_t echo2 = capos_capset_find("echo2", Echo_INTERFACE_ID, 0);
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);

    char s1[33], s2[33], s3[33];
    session_of(echo, s1);
    session_of(echo, s2);
    session_of(echo2, s3);
    CHECK(s1[0] && strcmp(s1, s2) == 0, "session reference stable for one endpoint: %s", s1);
    CHECK(strcmp(s1, s3) != 0, "session reference differs across endpoints: %s", s3);

    struct capn_text a;
    struct capos_xfer copy = {console, CAPOS_XFER_COPY};
    int32_t rc = echo_xfer(echo, "with a console", &copy, 1, &a);
    CHECK(rc == 0 && a.len == 8, "a copied Console went to the server (%d)", rc);
    {
        uint8_t cp[128], cr[64];
        struct capnpc_call cc;
        capnpc_call_init(&cc, cp, sizeof(cp), cr, sizeof(cr));
        int crc = Console_writeLine_call(&capos_transport, console, &cc,
                                         "echo-transfer: my console still works", 37, 0);
        CHECK(crc == CAPNPC_OK, "the copy left the sender's capability in place (%d)", crc);
    }

    struct capos_xfer twice[2] = {{timer, CAPOS_XFER_MOVE}, {timer, CAPOS_XFER_MOVE}};
    rc = echo_xfer(echo, "twice", twice, 2, 0);
    CHECK(rc == CAPOS_E_BAD_TRANSFER, "moving one capability twice in a call refused (%d)", rc);
    struct capos_xfer self = {echo, CAPOS_XFER_MOVE};
    rc = echo_xfer(echo, "self", &self, 1, 0);
    CHECK(rc == CAPOS_E_BAD_TRANSFER, "moving the endpoint being called refused (%d)", rc);
    struct capos_xfer stale = {timer + 0x10000, CAPOS_XFER_COPY};
    rc = echo_xfer(echo, "stale", &stale, 1, 0);
    CHECK(rc == CAPOS_E_BAD_CAP, "a stale capability id refused (%d)", rc);

    struct capos_xfer move = {timer, CAPOS_XFER_MOVE};
    rc = echo_xfer(echo, "with a timer", &move, 1, &a);
    CHECK(rc == 0, "a Timer moved to the server (%d)", rc);
    uint8_t p[64], r[64];
    struct capnpc_call c;
    Timer_now_Results_r now;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    rc = Timer_now_call(&capos_transport, timer, &c, &now);
    CHECK(rc == CAPOS_E_BAD_CAP, "after the move the sender no longer holds it (%d)", rc);

    echo_xfer(echo, "quit:1", 0, 0, 0);
    echo_xfer(echo2, "quit:1", 0, 0, 0);
    capos_printf("echo-transfer: %d failures\n", failures);
    return failures;
}
