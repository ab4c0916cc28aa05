/*
 * chat-client: the demo client of the chat service, started from the shell
 * with the session's chat capability:
 *
 *     run "chat-client" with { chat: @chat }
 *
 * Shows the recent messages, asks for one line ("message> "), posts it as
 * "pid N" and says which number it got. Everything goes through "stdio"
 * (StdIO), the shell's stand-in for the terminal.
 *
 * Exit codes: 0 posted (or nothing to post), 1 something missing or failed.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "text/fmt.h"

#define TEXT_MAX 200

static uint32_t stdio;
static uint8_t params[1024] __attribute__((aligned(8)));
static uint8_t results[8192] __attribute__((aligned(8)));

static void out(const char *s, size_t n)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    StdIO_write_call(&capos_transport, stdio, &c, s, (uint32_t)n, 0);
}

__attribute__((format(printf, 1, 2))) static void outf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    out(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* The CapException message of a failed call, or a transport error. */
static const char *why(int rc, struct capnpc_call *c, char *buf, size_t size)
{
    if (rc == CAPNPC_EXCEPTION) {
        struct capn_text t = CapException_get_message(CapException_read_root(&c->msg));
        fmt_snprintf(buf, size, "%.*s", (int)t.len, t.str ? t.str : "");
    } else {
        fmt_snprintf(buf, size, "the call failed (%d)", rc);
    }
    return buf;
}

int main(void)
{
    stdio = capos_capset_find("stdio", StdIO_INTERFACE_ID, 0);
    if (!stdio) {
        /* Nowhere to talk to: say so on the console, if there is one. */
        capos_printf("chat-client: needs \"stdio\" (StdIO); start it from the shell\n");
        return 1;
    }
    uint32_t chat = capos_capset_find("chat", Chat_INTERFACE_ID, 0);
    if (!chat) {
        outf("chat-client: needs \"chat\" (Chat): start it with { chat: @chat } from an "
             "operator session\r\n");
        return 1;
    }
    char err[160];
    struct capnpc_call c;
    Chat_recent_Results_r rr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = Chat_recent_call(&capos_transport, chat, &c, 16, &rr);
    if (rc != CAPNPC_OK) {
        outf("chat-client: could not read the board: %s\r\n", why(rc, &c, err, sizeof(err)));
        return 1;
    }
    List_Text_r lines = Chat_recent_Results_get_lines(rr);
    uint32_t n = List_Text_len(lines);
    /* Copy before the buffers are reused by the writes. */
    static char board[16][240];
    static uint32_t lens[16];
    for (uint32_t i = 0; i < n && i < 16; i++) {
        struct capn_text t = List_Text_get(lines, i);
        lens[i] = t.len < sizeof(board[i]) ? t.len : sizeof(board[i]);
        memcpy(board[i], t.str ? t.str : "", lens[i]);
    }
    if (n == 0)
        outf("chat-client: the board is empty\r\n");
    else
        outf("chat-client: %u recent message%s:\r\n", n, n == 1 ? "" : "s");
    for (uint32_t i = 0; i < n && i < 16; i++)
        outf("  %.*s\r\n", (int)lens[i], board[i]);

    out("message> ", 9);
    StdIO_readLine_Results_r lr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = StdIO_readLine_call(&capos_transport, stdio, &c, TEXT_MAX, &lr);
    if (rc != CAPNPC_OK) {
        outf("chat-client: could not read a line: %s\r\n", why(rc, &c, err, sizeof(err)));
        return 1;
    }
    TerminalSession_LineStatus st = StdIO_readLine_Results_get_status(lr);
    struct capn_data line = StdIO_readLine_Results_get_line(lr);
    char text[TEXT_MAX];
    uint32_t len = line.len <= TEXT_MAX ? line.len : 0;
    memcpy(text, line.ptr ? (const char *)line.ptr : "", len);
    if (st != TerminalSession_LineStatus_ok || len == 0) {
        outf("chat-client: %s; nothing posted\r\n",
             st == TerminalSession_LineStatus_cancelled ? "cancelled"
             : st == TerminalSession_LineStatus_tooLong
                 ? "the line was too long (200 bytes at most)"
             : st == TerminalSession_LineStatus_endOfInput ? "end of input"
                                                           : "empty line");
        return 0;
    }
    char from[16];
    int flen = fmt_snprintf(from, sizeof(from), "pid %u", capos_pid());
    Chat_post_Results_r pr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = Chat_post_call(&capos_transport, chat, &c, from, (uint32_t)flen, text, len, &pr);
    if (rc != CAPNPC_OK) {
        outf("chat-client: not posted: %s\r\n", why(rc, &c, err, sizeof(err)));
        return 1;
    }
    outf("posted #%u\r\n", Chat_post_Results_get_seq(pr));
    return 0;
}
