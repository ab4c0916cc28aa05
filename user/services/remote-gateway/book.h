/*
 * The gateway's bookkeeping, pure logic: the handles the RPC engines hold
 * (gw_refs), the remote sessions, and each connection's share of them
 * and of the ring calls in flight. No ring, no sockets: the effects (a
 * capability slot to release, a session to log out at the broker) go
 * through two hooks the embedding provides, so the same file runs in the
 * gateway and in the host tests (tests/gateway/, the `gateway` fuzz
 * target), which check the invariants gw_book_check states.
 *
 * Freestanding: memset/memcpy only.
 */
#ifndef REMOTE_GATEWAY_BOOK_H
#define REMOTE_GATEWAY_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_CONNS    4u   /* connections at once; one more is refused with an Abort */
#define GW_OPS      12u  /* ring calls in flight for the connections (a process has 30) */
#define GW_REFS     512u /* handles the engines hold, all connections together */
#define GW_SESSIONS 8u   /* logged-in sessions, all connections together */
#define GW_BUNDLE   16u  /* capabilities of one session's bundle */
#define GW_NAME     16u  /* bytes of a bundle name, with its NUL */
/* Each connection's share: a fair part of every pool, so that one
 * connection, however greedy, leaves the others theirs. */
#define GW_CONN_REFS     (GW_REFS / GW_CONNS)
#define GW_CONN_SESSIONS (GW_SESSIONS / GW_CONNS)
#define GW_CONN_OPS      (GW_OPS / GW_CONNS)

#define GW_NO_HANDLE UINT32_MAX /* the engine's RPC_NO_CAP */

enum gw_ref_kind { GW_FREE = 0, GW_LOGIN, GW_SESSION, GW_REAL };

/* A handle the engine holds: one of our own objects, or a capability of
 * this process (a slot) reached through a session. Handle 0 is never
 * used (the engine has no meaning for it, but a zeroed field is then
 * never a live handle). */
struct gw_ref {
    uint8_t kind;
    uint8_t conn;  /* the connection it was handed to */
    uint16_t sess; /* session index + 1 (0: none) */
    uint32_t refs; /* references the engine (or the session) holds */
    uint32_t slot; /* GW_REAL: the capability */
};

struct gw_session {
    bool used, logged_out;
    bool ready; /* the bundle arrived and the login was answered */
    uint8_t conn;
    uint16_t profile; /* UserSession.Profile */
    uint32_t deps;    /* handles naming it; freed at 0 once logged out */
    uint32_t pins;    /* calls of it in flight, whose results will name it */
    uint8_t id[16];
    char principal[32];
    uint32_t link; /* the ShellLink's owner side: its end logs the session out */
    uint32_t nbundle;
    char names[GW_BUNDLE][GW_NAME];
    uint64_t ifaces[GW_BUNDLE];
    uint32_t bundle[GW_BUNDLE]; /* handles (GW_REAL), one reference each for the session */
};

/* What each connection holds, counted as it changes. */
struct gw_share {
    uint32_t refs, sessions, ops;
};

extern struct gw_ref gw_refs[GW_REFS];
extern struct gw_session gw_sessions[GW_SESSIONS];
extern struct gw_share gw_shares[GW_CONNS];

/* ---- Hooks: the embedding's effects ---- */
/* The last handle of a capability slot went: release the slot. */
void gw_hook_release_slot(uint32_t slot);
/* A ready session ends (once): have the broker log it out (and drop
 * ss->link), say why. */
void gw_hook_logout(struct gw_session *ss, const char *why);

/* Forget everything (tests). */
void gw_book_reset(void);

/* A new handle for connection conn with one reference, or GW_NO_HANDLE
 * (the table is full, or the connection has its share). */
uint32_t gw_ref_new(enum gw_ref_kind kind, uint32_t conn, uint32_t sess, uint32_t slot);
/* One more reference to a live handle (a session's bundle, handed out
 * again); false if h is not live. */
bool gw_ref_retain(uint32_t h);
/* One reference goes; the last frees the handle (releases its slot, or
 * ends its session). False if h is not a live handle. */
bool gw_ref_release(uint32_t h);
/* The live handle h, or NULL. */
struct gw_ref *gw_ref_get(uint32_t h);
/* The session sess if it is in use, or NULL. */
struct gw_session *gw_session_get(uint32_t sess);

/* Sessions are named by index + 1 ("sess"), as handles name them. */
/* A session being logged in for connection conn, or 0 with *why saying
 * which limit refused it. */
uint32_t gw_session_new(uint32_t conn, const char **why);
/* A login that never became ready: forget it. */
void gw_session_abandon(uint32_t sess);
/* A call on one of the session's capabilities is in flight (its
 * results become handles of the session): the session is kept until it
 * is unpinned, even if logged out and no longer named. */
void gw_session_pin(uint32_t sess);
void gw_session_unpin(uint32_t sess);
/* A capability of the bundle, as a handle the session holds; false if
 * the bundle or the handles are full (the slot is then not taken). */
bool gw_session_bundle_add(uint32_t sess, const char *name, size_t len, uint64_t iface,
                           uint32_t slot);
/* The login is answered: the RemoteSession handle (one reference for
 * the engine), or GW_NO_HANDLE (then end the session). */
uint32_t gw_session_ready(uint32_t sess);
/* The session ends (logout, its RemoteSession released, the connection
 * gone): the hook logs it out, the session's bundle references go. The
 * engine's handles stay until released; calls on them are refused. */
void gw_session_end(uint32_t sess, const char *why);
/* Every ready session of this connection ends. */
void gw_sessions_of_conn_end(uint32_t conn);

/* A ring call for connection conn (UINT32_MAX: the gateway's own, not
 * charged): false if it has its share. */
bool gw_op_charge(uint32_t conn);
void gw_op_uncharge(uint32_t conn);

/* The invariants, checked from scratch: NULL if they hold, else what is
 * wrong (tests and the fuzz target call it after every step). */
const char *gw_book_check(void);

#endif
