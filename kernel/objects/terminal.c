/*
 * TerminalSession: the serial console as an interactive terminal.
 *
 * Received bytes arrive by interrupt (console_rx) into a buffer; reads wait
 * as deferred completions, so a process waiting for a key holds no kernel
 * thread. readLine edits the line here, with the same line editor the host
 * tests and fuzzer exercise (lib/text/line_edit.c): echo, backspace, Ctrl-U,
 * Ctrl-C, history. The history belongs to the terminal, like a tty's.
 *
 * Flow control: when the buffer is full the receive interrupt is turned
 * off, the UART's FIFO fills and the other end (QEMU's chardev, a person)
 * waits; nothing typed is dropped. It is turned on again once a reader has
 * made room.
 *
 * Everything runs with interrupts off (system calls and the interrupt path
 * both), so there is no locking.
 */
#include <arch/platform.h>
#include <capos/errors.h>

#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "process.h"
#include "registry.h"
#include "string.h"
#include "text/line_edit.h"

#define RX_SIZE     4096 /* a power of two */
#define MAX_WAITERS 4    /* reads waiting at once */
#define READ_MAX    256  /* bytes one read returns */
#define WRITE_MAX   4096 /* bytes one write takes */

enum wait_kind { WAIT_READ, WAIT_LINE };

struct waiter {
    struct pending_call token;
    enum wait_kind kind;
    uint32_t max;
};

static uint8_t rx[RX_SIZE];
static uint32_t rx_head, rx_tail; /* free-running; rx_tail - rx_head bytes */
static bool rx_paused;

static struct waiter *waiters[MAX_WAITERS]; /* FIFO: waiters[0] is served first */
static uint32_t nwaiters;

static struct line_edit editor;
/* The reader the line being typed belongs to, or 0. A line is never
 * handed on: if its reader goes (its process exited), what was typed for
 * it (perhaps half a password) is wiped, and the next reader starts a new
 * line in its own mode. */
static struct waiter *line_owner;
static bool echo_on = true;
static char echo_buf[LINE_EDIT_OUT_MAX];

static void put_bytes(const void *p, size_t n)
{
    const char *s = p;
    for (size_t i = 0; i < n; i++)
        arch_console_putc(s[i]);
}

/* ---- Completing reads ---- */

struct read_result {
    const uint8_t *data;
    uint32_t len;
    TerminalSession_LineStatus status;
};

static void build_read(struct capn_bld *b, void *arg)
{
    struct read_result *r = arg;
    TerminalSession_read_Results_b res = TerminalSession_read_Results_build_root(b);
    TerminalSession_read_Results_set_data(res, r->data, r->len);
}

static void build_line(struct capn_bld *b, void *arg)
{
    struct read_result *r = arg;
    TerminalSession_readLine_Results_b res = TerminalSession_readLine_Results_build_root(b);
    TerminalSession_readLine_Results_set_line(res, r->data, r->len);
    TerminalSession_readLine_Results_set_status(res, r->status);
}

static void remove_waiter(uint32_t i)
{
    if (waiters[i] == line_owner) {
        line_owner = 0;
        line_edit_start(&editor, true); /* wipes the unfinished line */
    }
    kfree(waiters[i]);
    for (uint32_t j = i + 1; j < nwaiters; j++)
        waiters[j - 1] = waiters[j];
    waiters[--nwaiters] = 0;
}

/* A read ended early (its process exited, or cancelled it): it gives up
 * its place, and the line typed for it, at once. */
static void waiter_abandon(struct pending_call *pc, struct process *caller)
{
    for (uint32_t i = 0; i < nwaiters; i++) {
        if (&waiters[i]->token == pc) {
            remove_waiter(i);
            return;
        }
    }
}

static void pop_waiter(void)
{
    remove_waiter(0);
}

/* Serve the first waiter from the buffer; false if it must wait on. */
static bool serve_one(void)
{
    /* Every waiter's reader is alive: one that exits or cancels leaves the
     * queue at once (waiter_abandon). */
    struct waiter *w = waiters[0];
    if (w->kind == WAIT_READ) {
        if (rx_tail == rx_head)
            return false;
        static uint8_t out[READ_MAX];
        uint32_t n = 0;
        while (n < w->max && rx_head != rx_tail)
            out[n++] = rx[rx_head++ & (RX_SIZE - 1)];
        struct read_result r = {out, n, TerminalSession_LineStatus_ok};
        pending_call_complete_with(&w->token, build_read, &r);
        pop_waiter();
        return true;
    }
    if (line_owner != w) {
        line_edit_start(&editor, !echo_on);
        /* A line longer than this reader takes is refused at Enter and
         * never enters the history (an over-long user name, say). */
        line_edit_set_limit(&editor, w->max);
        line_owner = w;
    }
    while (rx_head != rx_tail) {
        struct line_out out;
        line_out_init(&out, echo_buf, sizeof(echo_buf));
        enum line_event ev = line_edit_feed(&editor, rx[rx_head++ & (RX_SIZE - 1)], &out);
        put_bytes(echo_buf, out.len);
        if (ev == LINE_NONE)
            continue;
        size_t len = 0;
        const char *line = line_edit_line(&editor, &len);
        struct read_result r = {(const uint8_t *)line, (uint32_t)len,
                                TerminalSession_LineStatus_ok};
        if (ev == LINE_CANCEL) {
            r.len = 0;
            r.status = TerminalSession_LineStatus_cancelled;
        } else if (ev == LINE_EOF) {
            r.len = 0;
            r.status = TerminalSession_LineStatus_endOfInput;
        } else if (ev == LINE_TOO_LONG) {
            r.len = 0;
            r.status = TerminalSession_LineStatus_tooLong;
        }
        line_owner = 0;
        pending_call_complete_with(&w->token, build_line, &r);
        pop_waiter();
        return true;
    }
    return false;
}

static void pump(void)
{
    while (nwaiters && serve_one())
        ;
    if (rx_paused && rx_tail - rx_head < RX_SIZE / 2) {
        rx_paused = false;
        arch_console_rx_pause(false);
    }
}

bool console_rx_room(void)
{
    return rx_tail - rx_head < RX_SIZE;
}

bool console_rx(uint8_t byte)
{
    /* The driver asks console_rx_room first; a byte that still finds the
     * buffer full (it cannot) would be dropped, never written over one. */
    if (!console_rx_room())
        return false;
    rx[rx_tail++ & (RX_SIZE - 1)] = byte;
    pump();
    if (!console_rx_room()) {
        rx_paused = true;
        arch_console_rx_pause(true);
        return false;
    }
    return true;
}

/* ---- Methods ---- */

static int queue_wait(struct kcall *kc, enum wait_kind kind, uint32_t max)
{
    if (nwaiters == MAX_WAITERS)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "the terminal already has 4 reads waiting");
    struct waiter *w = kzalloc_in(kc->caller->account, sizeof(*w));
    if (!w)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "your frame quota cannot pay for another read");
    w->kind = kind;
    w->max = max;
    w->token.abandon = waiter_abandon;
    waiters[nwaiters++] = w;
    int rc = kcall_defer(kc, &w->token);
    pump(); /* bytes may be waiting already */
    return rc;
}

static int term_write(void *self, TerminalSession_write_Params_r params,
                      TerminalSession_write_Results_b results, void *ctx)
{
    struct capn_data d = TerminalSession_write_Params_get_data(params);
    if (d.len > WRITE_MAX)
        return kcall_fail(ctx, CapException_Type_invalidArgument,
                          "write: more than 4096 bytes; split the data");
    put_bytes(d.ptr, d.len);
    return CAPNPC_OK;
}

static int term_read(void *self, TerminalSession_read_Params_r params,
                     TerminalSession_read_Results_b results, void *ctx)
{
    uint32_t max = TerminalSession_read_Params_get_maxBytes(params);
    if (max == 0 || max > READ_MAX)
        return kcall_fail(ctx, CapException_Type_invalidArgument, "read: maxBytes must be 1..256");
    return queue_wait(ctx, WAIT_READ, max);
}

static int term_read_line(void *self, TerminalSession_readLine_Params_r params,
                          TerminalSession_readLine_Results_b results, void *ctx)
{
    uint32_t max = TerminalSession_readLine_Params_get_maxBytes(params);
    if (max == 0 || max > LINE_EDIT_MAX)
        return kcall_fail(ctx, CapException_Type_invalidArgument,
                          "readLine: maxBytes must be 1..1024");
    return queue_wait(ctx, WAIT_LINE, max);
}

static int term_set_echo(void *self, TerminalSession_setEcho_Params_r params,
                         TerminalSession_setEcho_Results_b results, void *ctx)
{
    bool on = TerminalSession_setEcho_Params_get_on(params);
    /* Takes effect with the next line: a line half typed keeps its mode,
     * so nothing typed visibly is ever hidden after the fact or back. */
    echo_on = on;
    return CAPNPC_OK;
}

static const struct TerminalSession_ops terminal_ops = {
    .write = term_write,
    .read = term_read,
    .readLine = term_read_line,
    .setEcho = term_set_echo,
};

KOBJECT_TYPE(terminal_type, TerminalSession, terminal_ops);

static struct kobject terminal = {.type = &terminal_type, .refs = 1};

static struct kobject *boot_object(const struct boot_module *m)
{
    static bool started;
    if (!started) {
        /* Receive interrupts from the first grant of the terminal on. */
        started = true;
        line_edit_init(&editor);
        arch_console_rx_start();
    }
    return &terminal;
}

const struct kobject_class terminal_class = {
    .name = "TerminalSession",
    .source = KernelSource_terminal,
    .iface = &TerminalSession_IFACE,
    .boot_object = boot_object,
};
