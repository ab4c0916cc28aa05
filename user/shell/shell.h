/*
 * capos-shell: the interactive shell (docs/shell.md).
 *
 * One process, one ring, one event loop. Everything that waits (the
 * terminal's readLine, a child's exit, a child's StdIO calls) is a CALL or
 * RECV left in flight under a user_data that says what it is; the loop in
 * events.c takes completions as they come, so the shell serves its
 * children's output while it waits for a key, and a child that never
 * answers cannot wedge it.
 */
#ifndef CAPOS_SHELL_H
#define CAPOS_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capos.capnp.h"
#include "capos_rt.h"

#define SHELL_MAX_CAPS 24
#define SHELL_MAX_JOBS 8
#define SHELL_NAME     32 /* capability and binary names, with the NUL */

/* Where a capability in the shell's table came from. */
enum cap_origin {
    CAP_SHELL,   /* the shell's own CapSet: terminal, sessions, broker, endpoints */
    CAP_SESSION, /* the session's bundle from the authority broker */
};

struct shell_cap {
    char name[SHELL_NAME];
    uint64_t iface;
    uint32_t cap;
    enum cap_origin origin;
};

/* user_data of the shell's calls in flight: kind << 8 | job index. */
enum event_kind {
    EV_TERM_LINE = 1, /* the shell's own readLine */
    EV_JOB_WAIT,      /* ProcessHandle.wait of a job */
    EV_JOB_RECV,      /* RECV on a job's StdIO endpoint */
    EV_JOB_LINE,      /* readLine on behalf of a job's StdIO.readLine */
};
#define EV_TAG(kind, idx) ((uint64_t)(kind) << 8 | (uint64_t)(idx) | (uint64_t)1 << 40)

struct job;

struct shell {
    uint32_t terminal, sessions, broker, endpoints;
    /* The owner side of this session's ShellLink (0: none): held, never
     * served, so that the broker sees the shell end however it ends. */
    uint32_t link;
    struct shell_cap caps[SHELL_MAX_CAPS];
    uint32_t ncaps;
    UserSession_Profile profile;
    uint8_t session_id[16];
    char principal[SHELL_NAME];
    bool echo_off; /* the terminal's echo, as last set */
    /* The binaries the session's launcher may start (from the broker),
     * NUL-separated; nprograms of them. */
    char programs[256];
    uint32_t nprograms;
};

extern struct shell sh;

/* ---- term.c: the terminal ---- */
void term_write(const char *s, size_t len);
void term_puts(const char *s);
void term_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prompt, then wait for a line (serving children meanwhile). Returns the
 * LineStatus, or -1 if the terminal is gone; the line is NUL-terminated. */
int term_read_line(const char *prompt, bool hidden, char *buf, size_t size, size_t *len);

/* ---- events.c: the event loop ---- */
/* Wait for one completion and handle it; the CQE is copied to *out when
 * it is the one `want` (then true). */
bool events_wait_for(uint64_t want, struct capos_cqe *out);
/* Handle what has completed, or wait for something to; false if the ring
 * is broken. */
bool events_step(void);

/* ---- jobs.c: children ---- */
struct shell_cmd;
int jobs_spawn(const char *line, const struct shell_cmd *cmd, bool wait);
int jobs_wait(bool has_job, uint32_t job);
void jobs_list(void);
/* The session ends: every job loses its StdIO (so it can no longer read
 * the terminal or write to it), its handle is let go, and the table is
 * cleared; each running job is reported as ended by `why`. */
void jobs_end_all(const char *why, bool quiet);
/* A completion for a job (EV_JOB_*). */
void jobs_event(enum event_kind kind, uint32_t idx, const struct capos_cqe *cqe);

/* ---- session.c: login and the capability table ---- */
void session_init(void);
void session_greet(void);
void cmd_login(void);
void cmd_setup(void);
void cmd_guest(void);
void cmd_logout(void);
/* The shell is ending: log the session out, so it cannot outlive it. */
void session_end_on_exit(void);
void cmd_whoami(void);
void cmd_caps(void);
void cmd_programs(void);
void cmd_memory(void);
const struct shell_cap *caps_find(const char *name, size_t len);
/* A new endpoint of iface, both sides; NULL, or why not. */
const char *shell_endpoint(uint64_t iface, uint32_t *server, uint32_t *client);
const char *iface_name(uint64_t id);
/* Append a record to the session's audit log, if it has one. */
void session_audit(AuditLog_Kind kind, const char *detail, size_t len);

/* A message for a failed call: the exception's message, or the error. */
const char *call_error(int rc, struct capnpc_call *c);

#endif
