/*
 * QEMU test program (init of tests/qemu/systems/terminal.cue, driven by
 * tests/qemu/scripts/terminal.script): every TerminalSession method. Raw
 * reads, a line, a line longer than asked for, a hidden line, Ctrl-C,
 * Ctrl-D, cancelled reads, and refused arguments.
 */
#include "capos_rt.h"

#include <string.h>

#include <capos/errors.h>

#include "capos.capnp.h"
#include "testlib.h"

static uint32_t term;
static uint8_t params[512] __attribute__((aligned(8)));
static uint8_t results[2048] __attribute__((aligned(8)));

static void say(const char *s)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    TerminalSession_write_call(&capos_transport, term, &c, s, (uint32_t)strlen(s), 0);
}

/* readLine(max): its status (or -1), the line copied to buf. */
static int line(uint32_t max, char *buf, size_t size)
{
    struct capnpc_call c;
    TerminalSession_readLine_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = TerminalSession_readLine_call(&capos_transport, term, &c, max, &r);
    if (rc != CAPNPC_OK)
        return rc == CAPNPC_EXCEPTION ? -2 : -1;
    struct capn_data d = TerminalSession_readLine_Results_get_line(r);
    size_t n = d.len < size - 1 ? d.len : size - 1;
    memcpy(buf, d.ptr, n);
    buf[n] = 0;
    return (int)TerminalSession_readLine_Results_get_status(r);
}

static void echo(bool on)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    TerminalSession_setEcho_call(&capos_transport, term, &c, on, 0);
}

static int raw_read(uint32_t max, char *buf, uint32_t *n)
{
    struct capnpc_call c;
    TerminalSession_read_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = TerminalSession_read_call(&capos_transport, term, &c, max, &r);
    if (rc != CAPNPC_OK)
        return rc;
    struct capn_data d = TerminalSession_read_Results_get_data(r);
    *n = d.len;
    memcpy(buf, d.ptr, d.len);
    return 0;
}

int main(void)
{
    term = capos_capset_find("terminal", TerminalSession_INTERFACE_ID, 0);
    CHECK(term != 0, "the CapSet has a terminal");
    char buf[1100];

    /* Raw bytes: "hello" arrives in one read or several, never echoed. */
    say("raw> ");
    char got[16] = {0};
    uint32_t total = 0;
    while (total < 5) {
        uint32_t n = 0;
        if (raw_read(4, got + total, &n) != 0 || n == 0 || n > 4)
            break;
        total += n;
    }
    CHECK(total == 5 && memcmp(got, "hello", 5) == 0, "read gave the 5 raw bytes typed (%u)",
          total);

    say("\r\nline> ");
    int st = line(64, buf, sizeof(buf));
    CHECK(st == TerminalSession_LineStatus_ok && strcmp(buf, "a line") == 0,
          "readLine: the edited line (status %d, '%s')", st, buf);

    say("short> ");
    st = line(8, buf, sizeof(buf));
    CHECK(st == TerminalSession_LineStatus_tooLong && buf[0] == 0,
          "readLine(8) of a longer line: tooLong, empty (status %d)", st);

    echo(false);
    say("secret> ");
    st = line(64, buf, sizeof(buf));
    CHECK(st == TerminalSession_LineStatus_ok && strcmp(buf, "hunter2-secret") == 0,
          "a hidden line is read like any other (status %d)", st);
    echo(true);

    say("cancel> ");
    st = line(64, buf, sizeof(buf));
    CHECK(st == TerminalSession_LineStatus_cancelled && buf[0] == 0,
          "Ctrl-C: cancelled, empty (status %d)", st);

    say("eof> ");
    st = line(64, buf, sizeof(buf));
    CHECK(st == TerminalSession_LineStatus_endOfInput, "Ctrl-D on an empty line: endOfInput (%d)",
          st);

    /* A reader that exits with half a hidden line typed: the next reader
     * starts a new line, in its own (visible) mode. */
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    struct capos_grant g[2] = {{"terminal", TerminalSession_INTERFACE_ID, term},
                               {"timer", Timer_INTERFACE_ID, timer}};
    int rc;
    uint32_t handle = test_spawn(spawner, "terminal-quitter", g, 2, &rc);
    CHECK(handle != 0, "started a reader that will quit mid-line (%d)", rc);
    if (handle) {
        test_wait_exit(handle);
        echo(true);
        say("\r\nafter> ");
        st = line(64, buf, sizeof(buf));
        CHECK(st == TerminalSession_LineStatus_ok && strcmp(buf, "visible") == 0,
              "the next reader gets only its own line, not the quitter's half (got '%s')", buf);
    }

    /* Cancelled reads give back their places: first one, then the 4 a
     * terminal holds at once (a place kept by a cancelled read would make
     * the 4th fail at once with `overloaded`). Nothing is typed here. */
    static const uint64_t line64[3] = {(uint64_t)2 << 32, (uint64_t)1 << 32, 64};
    static uint8_t lres[4][256] __attribute__((aligned(8)));
    int cancelled = 0;
    for (int round = 1; round <= 4; round *= 4) {
        uint64_t ud[4];
        for (int i = 0; i < round; i++) {
            struct capos_sqe sq = {.opcode = CAPOS_OP_CALL,
                                   .method = TerminalSession_readLine_METHOD,
                                   .cap = term,
                                   .interface_id = TerminalSession_INTERFACE_ID,
                                   .params_addr = (uint64_t)line64,
                                   .params_len = sizeof(line64),
                                   .result_addr = (uint64_t)lres[i],
                                   .result_len = sizeof(lres[i]),
                                   .user_data = ud[i] = capos_ring_next_id()};
            capos_ring_submit(&sq);
        }
        capos_cap_enter(0, 0);
        for (int i = 0; i < round; i++) {
            struct capos_sqe cs = {.opcode = CAPOS_OP_CANCEL,
                                   .target_user_data = ud[i],
                                   .user_data = capos_ring_next_id()};
            struct capos_cqe a = {0}, b = {0};
            capos_ring_submit(&cs);
            capos_ring_wait(cs.user_data, &a);
            capos_ring_wait(ud[i], &b);
            cancelled += a.result == 0 && b.result == CAPOS_E_CANCELLED;
        }
    }
    CHECK(cancelled == 5, "reads cancelled, their places given back (%d of 5)", cancelled);

    uint32_t n;
    CHECK(raw_read(0, buf, &n) == CAPNPC_EXCEPTION, "read(0) is refused");
    CHECK(raw_read(300, buf, &n) == CAPNPC_EXCEPTION, "read(300) is refused");
    CHECK(line(0, buf, sizeof(buf)) == -2, "readLine(0) is refused");
    CHECK(line(2000, buf, sizeof(buf)) == -2, "readLine(2000) is refused");

    capos_printf("terminal-test: %d failures\n", failures);
    return failures;
}
