/*
 * The gateway's bookkeeping (book.h): handles, sessions, each
 * connection's share. Pure logic, shared with the host tests.
 *
 * Reference counting, in one place: a handle counts the references the
 * engine holds, plus one while it is in a ready session's bundle; a
 * session counts the handles naming it (deps) and is freed when it is
 * logged out and none is left, so a late release still finds it. The
 * per-connection counts (gw_shares) follow every change, and
 * gw_book_check recomputes all of it from the tables.
 */
#include "book.h"

#include <string.h>

struct gw_ref gw_refs[GW_REFS];
struct gw_session gw_sessions[GW_SESSIONS];
struct gw_share gw_shares[GW_CONNS];

void gw_book_reset(void)
{
    memset(gw_refs, 0, sizeof(gw_refs));
    memset(gw_sessions, 0, sizeof(gw_sessions));
    memset(gw_shares, 0, sizeof(gw_shares));
}

struct gw_ref *gw_ref_get(uint32_t h)
{
    return h > 0 && h < GW_REFS && gw_refs[h].kind != GW_FREE ? &gw_refs[h] : 0;
}

struct gw_session *gw_session_get(uint32_t sess)
{
    return sess > 0 && sess <= GW_SESSIONS && gw_sessions[sess - 1].used ? &gw_sessions[sess - 1]
                                                                         : 0;
}

uint32_t gw_ref_new(enum gw_ref_kind kind, uint32_t conn, uint32_t sess, uint32_t slot)
{
    if (conn >= GW_CONNS || kind == GW_FREE || gw_shares[conn].refs >= GW_CONN_REFS)
        return GW_NO_HANDLE;
    struct gw_session *ss = 0;
    if (sess && (!(ss = gw_session_get(sess)) || ss->conn != conn))
        return GW_NO_HANDLE; /* a handle never names another connection's session */
    for (uint32_t i = 1; i < GW_REFS; i++) {
        struct gw_ref *r = &gw_refs[i];
        if (r->kind != GW_FREE)
            continue;
        *r = (struct gw_ref){(uint8_t)kind, (uint8_t)conn, (uint16_t)sess, 1, slot};
        gw_shares[conn].refs++;
        if (ss)
            ss->deps++;
        return i;
    }
    return GW_NO_HANDLE;
}

bool gw_ref_retain(uint32_t h)
{
    struct gw_ref *r = gw_ref_get(h);
    if (!r)
        return false;
    r->refs++;
    return true;
}

static void session_free(struct gw_session *ss)
{
    if (gw_shares[ss->conn].sessions > 0)
        gw_shares[ss->conn].sessions--;
    memset(ss, 0, sizeof(*ss));
}

/* A logged-out session goes once nothing names it and no call of it is
 * in flight (whose results must not land in a reused session). */
static void session_put(struct gw_session *ss)
{
    if (ss->logged_out && ss->deps == 0 && ss->pins == 0)
        session_free(ss);
}

bool gw_ref_release(uint32_t h)
{
    struct gw_ref *r = gw_ref_get(h);
    if (!r || r->refs == 0)
        return false;
    if (--r->refs > 0)
        return true;
    uint32_t sess = r->sess, kind = r->kind, slot = r->slot, conn = r->conn;
    /* Freed before the effects, which may release other handles. */
    memset(r, 0, sizeof(*r));
    gw_shares[conn].refs--;
    if (kind == GW_REAL)
        gw_hook_release_slot(slot);
    else if (kind == GW_SESSION)
        gw_session_end(sess, "the client released its RemoteSession");
    struct gw_session *ss = gw_session_get(sess);
    if (ss) {
        ss->deps--;
        session_put(ss);
    }
    return true;
}

uint32_t gw_session_new(uint32_t conn, const char **why)
{
    if (conn >= GW_CONNS) {
        *why = "no such connection";
        return 0;
    }
    if (gw_shares[conn].sessions >= GW_CONN_SESSIONS) {
        *why = "this connection has its share of remote sessions";
        return 0;
    }
    for (uint32_t s = 0; s < GW_SESSIONS; s++) {
        struct gw_session *ss = &gw_sessions[s];
        if (ss->used)
            continue;
        memset(ss, 0, sizeof(*ss));
        ss->used = true;
        ss->conn = (uint8_t)conn;
        gw_shares[conn].sessions++;
        return s + 1;
    }
    *why = "the gateway has its limit of remote sessions";
    return 0;
}

void gw_session_abandon(uint32_t sess)
{
    struct gw_session *ss = gw_session_get(sess);
    if (ss && !ss->ready && ss->deps == 0 && ss->pins == 0)
        session_free(ss);
}

void gw_session_pin(uint32_t sess)
{
    struct gw_session *ss = gw_session_get(sess);
    if (ss)
        ss->pins++;
}

void gw_session_unpin(uint32_t sess)
{
    struct gw_session *ss = gw_session_get(sess);
    if (ss && ss->pins > 0) {
        ss->pins--;
        session_put(ss);
    }
}

bool gw_session_bundle_add(uint32_t sess, const char *name, size_t len, uint64_t iface,
                           uint32_t slot)
{
    struct gw_session *ss = gw_session_get(sess);
    if (!ss || ss->ready || ss->nbundle >= GW_BUNDLE || len == 0 || len >= GW_NAME)
        return false;
    uint32_t h = gw_ref_new(GW_REAL, ss->conn, sess, slot);
    if (h == GW_NO_HANDLE)
        return false;
    memcpy(ss->names[ss->nbundle], name, len);
    ss->names[ss->nbundle][len] = 0;
    ss->ifaces[ss->nbundle] = iface;
    ss->bundle[ss->nbundle++] = h;
    return true;
}

uint32_t gw_session_ready(uint32_t sess)
{
    struct gw_session *ss = gw_session_get(sess);
    if (!ss || ss->ready)
        return GW_NO_HANDLE;
    uint32_t h = gw_ref_new(GW_SESSION, ss->conn, sess, 0);
    if (h != GW_NO_HANDLE)
        ss->ready = true;
    return h;
}

void gw_session_end(uint32_t sess, const char *why)
{
    struct gw_session *ss = gw_session_get(sess);
    if (!ss || ss->logged_out)
        return;
    ss->logged_out = true;
    /* A session whose login failed half way (no ready) still has a
     * session at the session manager: the hook logs it out all the same. */
    gw_hook_logout(ss, why);
    ss->deps++; /* held while the bundle goes, so it is freed once, below */
    for (uint32_t i = 0; i < ss->nbundle; i++)
        gw_ref_release(ss->bundle[i]);
    ss->nbundle = 0;
    ss->deps--;
    session_put(ss);
}

void gw_sessions_of_conn_end(uint32_t conn)
{
    for (uint32_t s = 0; s < GW_SESSIONS; s++)
        if (gw_sessions[s].used && gw_sessions[s].conn == conn && gw_sessions[s].ready)
            gw_session_end(s + 1, "the connection closed");
}

bool gw_op_charge(uint32_t conn)
{
    if (conn >= GW_CONNS)
        return true;
    if (gw_shares[conn].ops >= GW_CONN_OPS)
        return false;
    gw_shares[conn].ops++;
    return true;
}

void gw_op_uncharge(uint32_t conn)
{
    if (conn < GW_CONNS && gw_shares[conn].ops > 0)
        gw_shares[conn].ops--;
}

const char *gw_book_check(void)
{
    uint32_t refs[GW_CONNS] = {0}, sessions[GW_CONNS] = {0}, deps[GW_SESSIONS] = {0};
    if (gw_refs[0].kind != GW_FREE)
        return "handle 0 is in use";
    for (uint32_t i = 1; i < GW_REFS; i++) {
        const struct gw_ref *r = &gw_refs[i];
        if (r->kind == GW_FREE)
            continue;
        if (r->kind > GW_REAL || r->conn >= GW_CONNS || r->refs == 0)
            return "a live handle with a bad kind, connection or no reference";
        refs[r->conn]++;
        if (r->kind == GW_LOGIN && r->sess)
            return "a RemoteLogin handle names a session";
        if (r->kind == GW_SESSION && !r->sess)
            return "a RemoteSession handle names no session";
        if (r->sess) {
            const struct gw_session *ss = gw_session_get(r->sess);
            if (!ss)
                return "a handle names a session that is free";
            if (ss->conn != r->conn)
                return "a handle names another connection's session";
            deps[r->sess - 1]++;
        }
    }
    for (uint32_t s = 0; s < GW_SESSIONS; s++) {
        const struct gw_session *ss = &gw_sessions[s];
        if (!ss->used)
            continue;
        if (ss->conn >= GW_CONNS)
            return "a session of no connection";
        sessions[ss->conn]++;
        if (ss->deps != deps[s])
            return "a session's count of handles differs from the handles naming it";
        if (ss->logged_out && ss->deps == 0 && ss->pins == 0)
            return "a logged-out session nothing names is still kept";
        if (ss->logged_out && ss->nbundle)
            return "a logged-out session still holds its bundle";
        for (uint32_t i = 0; i < ss->nbundle; i++) {
            const struct gw_ref *r = gw_ref_get(ss->bundle[i]);
            if (!r || r->kind != GW_REAL || r->sess != s + 1)
                return "a bundle entry is not a live handle of its session";
        }
    }
    for (uint32_t c = 0; c < GW_CONNS; c++) {
        if (refs[c] != gw_shares[c].refs || sessions[c] != gw_shares[c].sessions)
            return "a connection's counts differ from its handles and sessions";
        if (refs[c] > GW_CONN_REFS || sessions[c] > GW_CONN_SESSIONS ||
            gw_shares[c].ops > GW_CONN_OPS)
            return "a connection holds more than its share";
    }
    return 0;
}
