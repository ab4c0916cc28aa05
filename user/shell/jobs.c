/*
 * Jobs: children started with spawn or run. Each gets exactly the grants
 * its command names plus a StdIO, an endpoint the shell creates for it and
 * serves: writes go to the terminal; a readLine is forwarded to the
 * terminal only while the job is in the foreground (run, wait): a
 * background job that asks for a line waits until it is brought there.
 *
 * That StdIO is the only way a child reaches the terminal: the shell's own
 * TerminalSession is never granted. It is per job and ends with the job,
 * and with the session: logout (or a switch to another session) closes
 * every job's StdIO, so a job left running cannot read what the next user
 * types.
 *
 * A job slot is reused only when nothing of it is in flight any more (its
 * wait answered, its RECV completed), so a late completion can never be
 * taken for another job's.
 */
#include <stddef.h>
#include <string.h>

#include "capnp/capnpc_rt.h"
#include "shell.h"
#include "text/fmt.h"
#include "text/shell_parse.h"

#define STDIO_LINE_MAX 1024

struct job {
    bool used;
    bool running;     /* not yet exited */
    bool reported;    /* its exit was shown (or waited for) */
    bool foreground;  /* may read the terminal */
    bool recv_posted; /* a RECV on its StdIO is in flight */
    bool line_posted; /* a terminal readLine is in flight for it */
    bool line_wanted; /* it asked for a line while in the background */
    bool wait_posted; /* its ProcessHandle.wait is in flight */
    bool ended;       /* cut off by the end of the session: out of the table */
    uint32_t line_max;
    uint32_t id;
    char name[SHELL_NAME];
    uint32_t handle, stdio;
    int exit_code;
    uint32_t line_call; /* the StdIO.readLine call the line answers */
    struct capnpc_call waitc, linec;
    uint8_t wait_params[32], wait_results[64];
    uint8_t line_params[64], line_results[STDIO_LINE_MAX + 256];
    uint8_t recv[4096 + 512];
    /* The results of its RETURN, until the kernel has copied them (a
     * job's next RETURN follows its next RECV, which the kernel takes
     * after this RETURN: one buffer per job is enough). */
    uint8_t ret[STDIO_LINE_MAX + 320] __attribute__((aligned(8)));
};

static struct job jobs[SHELL_MAX_JOBS] __attribute__((aligned(8)));
static uint32_t next_id = 1;
static uint8_t params[4096] __attribute__((aligned(8)));
static uint8_t results[1024] __attribute__((aligned(8)));

/* ---- Serving a job's StdIO ---- */

static void post_recv(uint32_t idx)
{
    struct job *j = &jobs[idx];
    struct capos_sqe sqe = {.opcode = CAPOS_OP_RECV,
                            .cap = j->stdio,
                            .result_addr = (uint64_t)j->recv,
                            .result_len = sizeof(j->recv),
                            .user_data = EV_TAG(EV_JOB_RECV, idx)};
    j->recv_posted = capos_ring_submit(&sqe);
}

/* RETURN a results message (built by build, or a CapException). The
 * RETURN's own completion (user_data 0) is dropped by the runtime. */
typedef void (*build_fn)(struct capn_bld *b, const void *arg);

static void job_return(struct job *j, uint32_t call_id, build_fn build, const void *arg,
                       int ex_type, const char *ex_msg)
{
    static uint8_t arena[STDIO_LINE_MAX + 256] __attribute__((aligned(8)));
    uint8_t *out = j->ret;
    struct capn_seg seg;
    struct capn_bld b;
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    if (ex_msg) {
        CapException_b e = CapException_build_root(&b);
        CapException_set_type(e, (CapException_Type)ex_type);
        CapException_set_message(e, ex_msg, (uint32_t)strlen(ex_msg));
    } else {
        build(&b, arg);
    }
    size_t len = 0;
    if (b.err != CAPN_OK || capn_bld_write(&b, out, sizeof(j->ret), &len) != CAPN_OK)
        len = 0;
    struct capos_sqe sqe = {.opcode = CAPOS_OP_RETURN,
                            .cap = j->stdio,
                            .flags = ex_msg ? CAPOS_SQE_F_EXCEPTION : 0,
                            .call_id = call_id,
                            .params_addr = (uint64_t)out,
                            .params_len = (uint32_t)len};
    capos_ring_submit(&sqe);
    /* Let the kernel take it now; it would anyway with the next entry. */
    capos_cap_enter(0, 0);
}

static void build_empty(struct capn_bld *b, const void *arg)
{
    StdIO_write_Results_build_root(b);
}

struct line_result {
    struct capn_data line;
    TerminalSession_LineStatus status;
};

static void build_line(struct capn_bld *b, const void *arg)
{
    const struct line_result *r = arg;
    StdIO_readLine_Results_b res = StdIO_readLine_Results_build_root(b);
    StdIO_readLine_Results_set_line(res, r->line.ptr, r->line.len);
    StdIO_readLine_Results_set_status(res, r->status);
}

/* Forward the job's pending StdIO.readLine to the terminal. */
static void start_line(uint32_t idx)
{
    struct job *j = &jobs[idx];
    if (!j->line_wanted || j->line_posted)
        return;
    j->line_wanted = false;
    capnpc_call_init(&j->linec, j->line_params, sizeof(j->line_params), j->line_results,
                     sizeof(j->line_results));
    TerminalSession_readLine_Params_set_maxBytes(TerminalSession_readLine_begin(&j->linec),
                                                 j->line_max);
    if (sh.echo_off) {
        /* A child's line is never hidden by the shell's last prompt. */
        uint8_t p[64] __attribute__((aligned(8))), r[64] __attribute__((aligned(8)));
        struct capnpc_call c;
        capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
        if (TerminalSession_setEcho_call(&capos_transport, sh.terminal, &c, true, 0) == CAPNPC_OK)
            sh.echo_off = false;
    }
    j->line_posted = capos_call_start(&j->linec, sh.terminal, TerminalSession_INTERFACE_ID,
                                      TerminalSession_readLine_METHOD, EV_TAG(EV_JOB_LINE, idx));
    if (!j->line_posted) {
        job_return(j, j->line_call, 0, 0, CapException_Type_failed,
                   "StdIO.readLine: the terminal is unavailable");
        post_recv(idx);
    }
}

static void serve_call(uint32_t idx, const struct capos_cqe *cqe)
{
    struct job *j = &jobs[idx];
    const struct capos_recv_header *h = (const void *)j->recv;
    const struct capos_cap_record *rec = (const void *)(j->recv + sizeof(*h));
    /* Capabilities a child sends are not wanted: give them back to the
     * kernel rather than keep them. */
    for (uint32_t i = 0; i < h->cap_count && i < CAPOS_MAX_XFER; i++)
        capos_release(rec[i].cap);
    struct capn_seg segs[4];
    struct capn_msg msg;
    if (h->interface_id != StdIO_INTERFACE_ID || h->params_offset > sizeof(j->recv) ||
        h->params_len > sizeof(j->recv) - h->params_offset ||
        capn_msg_read(&msg, segs, 4, j->recv + h->params_offset, h->params_len, 0) != CAPN_OK) {
        job_return(j, cqe->call_id, 0, 0, CapException_Type_invalidArgument,
                   "StdIO: malformed call");
        post_recv(idx);
        return;
    }
    if (h->method == StdIO_write_METHOD) {
        struct capn_data d = StdIO_write_Params_get_data(StdIO_write_Params_read_root(&msg));
        if (capn_ok(&msg))
            term_write((const char *)d.ptr, d.len);
        job_return(j, cqe->call_id, build_empty, 0, 0, 0);
        post_recv(idx);
    } else if (h->method == StdIO_readLine_METHOD) {
        uint32_t max = StdIO_readLine_Params_get_maxBytes(StdIO_readLine_Params_read_root(&msg));
        if (max == 0 || max > STDIO_LINE_MAX)
            max = STDIO_LINE_MAX;
        j->line_call = cqe->call_id;
        j->line_max = max;
        j->line_wanted = true;
        if (j->foreground)
            start_line(idx);
        else
            term_printf("\r\n[%u] %s is waiting for a line: 'wait %u' to type it\r\n", j->id,
                        j->name, j->id);
        /* The next RECV waits for the line: the child is waiting anyway. */
    } else {
        job_return(j, cqe->call_id, 0, 0, CapException_Type_unimplemented, "StdIO: no such method");
        post_recv(idx);
    }
}

/* Take back a terminal readLine made for the job, so that the line typed
 * next goes to whoever reads after it, not to a job that is gone. */
static void cancel_line(uint32_t idx)
{
    if (!jobs[idx].line_posted)
        return;
    struct capos_sqe sqe = {.opcode = CAPOS_OP_CANCEL,
                            .target_user_data = EV_TAG(EV_JOB_LINE, idx)};
    capos_ring_submit(&sqe);
    capos_cap_enter(0, 0);
}

static void kill_job(struct job *j)
{
    static uint8_t p[64] __attribute__((aligned(8))), r[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    if (ProcessHandle_kill_call(&capos_transport, j->handle, &c, 0) != CAPNPC_OK)
        term_printf("[%u] %s: could not be killed; cut off instead\r\n", j->id, j->name);
}

static void finish_job(struct job *j, int code)
{
    j->running = false;
    j->exit_code = code;
    capos_release(j->handle);
    /* Closing the endpoint completes the RECV still posted on it. */
    capos_release(j->stdio);
    capos_flush_releases();
}

static void maybe_free(struct job *j)
{
    if (j->reported && !j->running && !j->recv_posted && !j->line_posted && !j->wait_posted)
        j->used = false;
}

void jobs_event(enum event_kind kind, uint32_t idx, const struct capos_cqe *cqe)
{
    if (idx >= SHELL_MAX_JOBS || !jobs[idx].used)
        return;
    struct job *j = &jobs[idx];
    if (j->ended) {
        /* What was in flight when the session ended comes back (closed,
         * cancelled); nothing of it is acted on. */
        if (kind == EV_JOB_RECV)
            j->recv_posted = false;
        else if (kind == EV_JOB_LINE)
            j->line_posted = false;
        else if (kind == EV_JOB_WAIT)
            j->wait_posted = false;
        maybe_free(j);
        return;
    }
    if (kind == EV_JOB_RECV) {
        j->recv_posted = false;
        if (cqe->result >= 0 && j->running)
            serve_call(idx, cqe);
    } else if (kind == EV_JOB_LINE) {
        j->line_posted = false;
        TerminalSession_readLine_Results_r r;
        struct line_result lr = {{0, 0}, TerminalSession_LineStatus_endOfInput};
        if (capos_call_finish(&j->linec, cqe, &r.s) == CAPNPC_OK) {
            lr.line = TerminalSession_readLine_Results_get_line(r);
            lr.status = TerminalSession_readLine_Results_get_status(r);
        }
        if (j->running) {
            job_return(j, j->line_call, build_line, &lr, 0, 0);
            post_recv(idx);
        }
    } else if (kind == EV_JOB_WAIT) {
        j->wait_posted = false;
        ProcessHandle_wait_Results_r r;
        int code = -1;
        if (capos_call_finish(&j->waitc, cqe, &r.s) == CAPNPC_OK)
            code = ProcessHandle_wait_Results_get_exitCode(r);
        cancel_line(idx);
        finish_job(j, code);
        if (!j->foreground) {
            term_printf("\r\n[%u] %s exited with code %d\r\n", j->id, j->name, code);
            j->reported = true;
        }
    }
    maybe_free(j);
}

/* ---- Starting ---- */

static void point_at(const char *line, uint32_t off, uint32_t len, const char *msg)
{
    struct shell_error e = {.offset = off, .length = len ? len : 1};
    size_t n = strlen(msg);
    if (n >= sizeof(e.message))
        n = sizeof(e.message) - 1;
    memcpy(e.message, msg, n);
    e.message[n] = 0;
    char out[512], crlf[2 * sizeof(out)];
    size_t w = shell_render_error(line, strlen(line), &e, out, sizeof(out)), n_crlf = 0;
    for (size_t i = 0; i < w; i++) {
        if (out[i] == '\n')
            crlf[n_crlf++] = '\r';
        crlf[n_crlf++] = out[i];
    }
    /* One write: a terminal call per byte was slow, and let other output
     * (init's reports) land inside the message. */
    term_write(crlf, n_crlf);
}

static const struct shell_cap *launcher(void)
{
    const struct shell_cap *l = caps_find("launcher", 8);
    return l && l->iface == ProcessSpawner_INTERFACE_ID ? l : 0;
}

static bool wait_job(struct job *j)
{
    j->foreground = true;
    if (j->line_wanted) {
        /* It asked while in the background: its prompt scrolled by. */
        term_printf("[%u] %s is reading a line:\r\n", j->id, j->name);
        start_line((uint32_t)(j - jobs));
    }
    while (j->running)
        if (!events_step())
            return false;
    j->reported = true;
    term_printf("[%u] %s exited with code %d\r\n", j->id, j->name, j->exit_code);
    maybe_free(j);
    return true;
}

int jobs_spawn(const char *line, const struct shell_cmd *cmd, bool wait)
{
    const char *what = wait ? "run" : "spawn";
    const struct shell_cap *l = launcher();
    if (!l) {
        term_printf("%s: this session cannot start programs: log in first ('login', 'setup' "
                    "or 'guest')\r\n",
                    what);
        return -1;
    }
    /* Every grant names a capability of this session's bundle, or @stdio
     * (the child's own StdIO under another name). The shell's own
     * capabilities stay in the shell: they are not the session's, they
     * outlive its logout, and the terminal would let a job read what the
     * next user types (a password, say). */
    const struct shell_cap *src[SHELL_GRANTS_MAX];
    for (uint32_t i = 0; i < cmd->grant_count; i++) {
        const struct shell_grant *g = &cmd->grants[i];
        src[i] = 0;
        if (strcmp(g->name, "stdio") == 0) {
            point_at(line, g->name_off, g->name_len,
                     "'stdio' is reserved: every program gets its own stdio");
            return -1;
        }
        if (strcmp(g->source, "stdio") == 0 && !g->client)
            continue;
        src[i] = caps_find(g->source, strlen(g->source));
        if (!src[i]) {
            point_at(line, g->source_off, g->source_len,
                     "no capability of that name in this session (see 'caps')");
            return -1;
        }
        if (src[i]->origin == CAP_SHELL) {
            point_at(line, g->source_off, g->source_len,
                     "the shell's own capability: programs get only the session's (see 'caps')");
            term_printf("%s: a program reaches the terminal through its own stdio\r\n", what);
            return -1;
        }
        if (g->client &&
            (src[i]->origin != CAP_SESSION || src[i]->iface == ProcessSpawner_INTERFACE_ID)) {
            point_at(line, g->source_off, g->source_len,
                     "not a service endpoint of this session: use '@name' to pass it");
            return -1;
        }
    }
    uint32_t idx = 0;
    while (idx < SHELL_MAX_JOBS && jobs[idx].used)
        idx++;
    if (idx == SHELL_MAX_JOBS) {
        term_printf("%s: %u jobs already: 'wait' for one first\r\n", what, SHELL_MAX_JOBS);
        return -1;
    }
    struct job *j = &jobs[idx];

    /* The child's StdIO: an endpoint of our own. */
    uint32_t server, client;
    const char *why = shell_endpoint(StdIO_INTERFACE_ID, &server, &client);
    if (why) {
        term_printf("%s: no StdIO for the child: %s\r\n", what, why);
        return -1;
    }
    struct capnpc_call c;
    int rc;

    uint32_t scaps[SHELL_GRANTS_MAX + 1], hcaps[1];
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, scaps, SHELL_GRANTS_MAX + 1, hcaps, 1);
    ProcessSpawner_spawn_Params_b p = ProcessSpawner_spawn_begin(&c);
    ProcessSpawner_spawn_Params_set_name(p, cmd->binary, (uint32_t)strlen(cmd->binary));
    ProcessSpawner_spawn_Params_set_binaryName(p, cmd->binary, (uint32_t)strlen(cmd->binary));
    uint32_t n = cmd->grant_count + 1;
    List_ProcessSpawner_Grant_b gl = ProcessSpawner_spawn_Params_init_grants(p, n);
    for (uint32_t i = 0; i < n; i++) {
        ProcessSpawner_Grant_b g = List_ProcessSpawner_Grant_at(gl, i);
        bool implicit = i == cmd->grant_count;
        const char *name = implicit ? "stdio" : cmd->grants[i].name;
        ProcessSpawner_Grant_set_name(g, name, (uint32_t)strlen(name));
        if (implicit || !src[i]) {
            ProcessSpawner_Grant_set_interfaceId(g, StdIO_INTERFACE_ID);
            ProcessSpawner_Grant_set_cap(g, capnpc_call_add_cap(&c, client));
        } else {
            ProcessSpawner_Grant_set_interfaceId(g, src[i]->iface);
            ProcessSpawner_Grant_set_cap(g, capnpc_call_add_cap(&c, src[i]->cap));
        }
    }
    ProcessSpawner_spawn_Results_r sr;
    rc = ProcessSpawner_spawn_send(&capos_transport, l->cap, &c, &sr);
    capos_release(client); /* the child has its copy */
    if (rc != CAPNPC_OK || c.reply.ncaps != 1) {
        capos_release(server);
        capos_flush_releases();
        /* The launcher is the authority: it checks that the program exists
         * before whether this session may start it, and refuses either
         * without starting anything. */
        int type = rc == CAPNPC_EXCEPTION
                       ? (int)CapException_get_type(CapException_read_root(&c.msg))
                       : -1;
        if (type == CapException_Type_notFound)
            point_at(line, cmd->binary_off, cmd->binary_len,
                     "no program of that name on this system (see 'programs')");
        else if (type == CapException_Type_permissionDenied)
            point_at(line, cmd->binary_off, cmd->binary_len,
                     "not a program this session may start (see 'programs')");
        else
            term_printf("%s: could not start \"%s\": %s\r\n", what, cmd->binary,
                        call_error(rc, &c));
        return -1;
    }

    char detail[128];
    fmt_snprintf(detail, sizeof(detail), "%s (%u grants)", cmd->binary, n);
    session_audit(AuditLog_Kind_launch, detail, strlen(detail));

    memset(j, 0, offsetof(struct job, waitc));
    j->used = true;
    j->running = true;
    j->foreground = wait;
    j->id = next_id++;
    memcpy(j->name, cmd->binary, strlen(cmd->binary) + 1);
    j->handle = hcaps[0];
    j->stdio = server;
    post_recv(idx);
    capnpc_call_init(&j->waitc, j->wait_params, sizeof(j->wait_params), j->wait_results,
                     sizeof(j->wait_results));
    ProcessHandle_wait_begin(&j->waitc);
    j->wait_posted = capos_call_start(&j->waitc, j->handle, ProcessHandle_INTERFACE_ID,
                                      ProcessHandle_wait_METHOD, EV_TAG(EV_JOB_WAIT, idx));
    if (!j->wait_posted)
        term_printf("%s: cannot wait for %s\r\n", what, cmd->binary);
    if (!wait) {
        term_printf("[%u] %s started\r\n", j->id, j->name);
        return 0;
    }
    return wait_job(j) ? j->exit_code : -1;
}

void jobs_end_all(const char *why, bool quiet)
{
    for (uint32_t i = 0; i < SHELL_MAX_JOBS; i++) {
        struct job *j = &jobs[i];
        if (!j->used || j->ended)
            continue;
        if (j->running) {
            /* Like a hang-up: the process is killed (it exits with
             * killedExitCode, which the pending wait then reports to a job
             * already out of the table), its StdIO closes and its session
             * capabilities are revoked by the logout that follows. */
            kill_job(j);
            cancel_line(i);
            j->running = false;
            j->ended = true;
            capos_release(j->stdio);
            capos_release(j->handle);
            if (!quiet)
                term_printf("[%u] %s ended by %s\r\n", j->id, j->name, why);
        } else if (!j->reported && !quiet) {
            term_printf("[%u] %s exited with code %d\r\n", j->id, j->name, j->exit_code);
        }
        j->ended = true;
        j->reported = true;
        j->line_wanted = false;
        maybe_free(j);
    }
    capos_flush_releases();
}

int jobs_wait(bool has_job, uint32_t id)
{
    bool any = false;
    for (uint32_t i = 0; i < SHELL_MAX_JOBS; i++) {
        struct job *j = &jobs[i];
        if (!j->used || j->ended || (has_job && j->id != id))
            continue;
        any = true;
        if (j->running) {
            wait_job(j);
        } else if (!j->reported) {
            j->reported = true;
            term_printf("[%u] %s exited with code %d\r\n", j->id, j->name, j->exit_code);
            maybe_free(j);
        }
    }
    if (!any && has_job)
        term_printf("wait: no job %u (see 'jobs')\r\n", id);
    else if (!any)
        term_puts("wait: no jobs\r\n");
    return 0;
}

void jobs_list(void)
{
    bool any = false;
    for (uint32_t i = 0; i < SHELL_MAX_JOBS; i++) {
        struct job *j = &jobs[i];
        if (!j->used || j->ended || (j->reported && !j->running))
            continue;
        any = true;
        if (j->running)
            term_printf("[%u] running  %s%s\r\n", j->id, j->name,
                        j->line_wanted ? " (waiting for a line)" : "");
        else {
            term_printf("[%u] exited   %s (code %d)\r\n", j->id, j->name, j->exit_code);
            j->reported = true;
            maybe_free(j);
        }
    }
    if (!any)
        term_puts("no jobs\r\n");
}
