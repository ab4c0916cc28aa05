/* The terminal: output, and reading a line through the event loop. */
#include <stdarg.h>
#include <string.h>

#include "capnp/capnpc_rt.h"
#include "shell.h"
#include "text/fmt.h"

#define WRITE_CHUNK 4096 /* TerminalSession.write takes at most this */

void term_write(const char *s, size_t len)
{
    static uint8_t params[WRITE_CHUNK + 64] __attribute__((aligned(8)));
    static uint8_t results[128] __attribute__((aligned(8)));
    while (len) {
        size_t n = len > WRITE_CHUNK ? WRITE_CHUNK : len;
        struct capnpc_call c;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        TerminalSession_write_call(&capos_transport, sh.terminal, &c, (const uint8_t *)s,
                                   (uint32_t)n, 0);
        s += n;
        len -= n;
    }
}

void term_puts(const char *s)
{
    term_write(s, strlen(s));
}

void term_printf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    term_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void set_echo(bool on)
{
    uint8_t params[64] __attribute__((aligned(8)));
    uint8_t results[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (TerminalSession_setEcho_call(&capos_transport, sh.terminal, &c, on, 0) == CAPNPC_OK)
        sh.echo_off = !on;
}

int term_read_line(const char *prompt, bool hidden, char *buf, size_t size, size_t *len)
{
    static uint8_t params[64] __attribute__((aligned(8)));
    static uint8_t results[1024 + 256] __attribute__((aligned(8)));
    static struct capnpc_call c;
    *len = 0;
    buf[0] = 0;
    if (hidden != sh.echo_off)
        set_echo(!hidden);
    term_puts(prompt);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    TerminalSession_readLine_Params_b p = TerminalSession_readLine_begin(&c);
    TerminalSession_readLine_Params_set_maxBytes(p, (uint32_t)(size - 1));
    uint64_t tag = EV_TAG(EV_TERM_LINE, 0);
    struct capos_cqe cqe;
    if (!capos_call_start(&c, sh.terminal, TerminalSession_INTERFACE_ID,
                          TerminalSession_readLine_METHOD, tag) ||
        !events_wait_for(tag, &cqe))
        return -1;
    TerminalSession_readLine_Results_r r;
    if (capos_call_finish(&c, &cqe, &r.s) != CAPNPC_OK)
        return -1;
    struct capn_data line = TerminalSession_readLine_Results_get_line(r);
    int status = (int)TerminalSession_readLine_Results_get_status(r);
    if (line.len >= size)
        return TerminalSession_LineStatus_tooLong;
    memcpy(buf, line.ptr, line.len);
    buf[line.len] = 0;
    *len = line.len;
    return status;
}
