/*
 * The gateway's bookkeeping (user/services/remote-gateway/book.c) against
 * hostile use: a connection grabbing every handle, session and ring call,
 * handles naming another connection's session, releases of what is not
 * held, and the ends of sessions and connections in every order. After
 * each, every slot must be released exactly once and the tables empty.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "hooks.h"

static void check(void)
{
    const char *bad = gw_book_check();
    cr_assert_null(bad, "book inconsistent: %s", bad ? bad : "");
}

/* Nothing left: no handle, no session, no share, every slot released
 * once, every logout once. */
static void all_gone(void)
{
    check();
    for (uint32_t h = 0; h < GW_REFS; h++)
        cr_assert_null(gw_ref_get(h), "handle %u still live (kind %u, conn %u, %u refs)", h,
                       gw_refs[h].kind, gw_refs[h].conn, gw_refs[h].refs);
    for (uint32_t s = 1; s <= GW_SESSIONS; s++)
        cr_assert_null(gw_session_get(s), "session %u still kept", s);
    for (uint32_t c = 0; c < GW_CONNS; c++)
        cr_assert(gw_shares[c].refs == 0 && gw_shares[c].sessions == 0,
                  "connection %u still charged %u handles, %u sessions", c, gw_shares[c].refs,
                  gw_shares[c].sessions);
    cr_assert_eq(hooks_live(), 0, "%u slots never released", hooks_live());
    cr_assert_eq(hk.double_release, 0, "%u slots released twice", hk.double_release);
    cr_assert_eq(hk.logout_twice, 0, "%u sessions logged out twice", hk.logout_twice);
    cr_assert_eq(hk.logout_unknown, 0);
}

/* A ready session of conn with n bundle capabilities; its RemoteSession
 * handle (the engine's reference) in *sh. */
static uint32_t login(uint32_t conn, uint32_t n, uint32_t *sh)
{
    const char *why = 0;
    uint32_t sess = gw_session_new(conn, &why);
    cr_assert_neq(sess, 0, "login refused: %s", why);
    hooks_login(sess);
    for (uint32_t i = 0; i < n; i++)
        cr_assert(gw_session_bundle_add(sess, "info", 4, 0x1234, hooks_slot()));
    *sh = gw_session_ready(sess);
    cr_assert_neq(*sh, GW_NO_HANDLE);
    check();
    return sess;
}

/* A ready session with n capabilities, and the engine holding the first
 * of them (capSet's reference) in *cap. */
static uint32_t login_holding(uint32_t conn, uint32_t n, uint32_t *sh, uint32_t *cap)
{
    uint32_t sess = login(conn, n, sh);
    *cap = gw_session_get(sess)->bundle[0];
    cr_assert(gw_ref_retain(*cap));
    return sess;
}

/* The engine ends the connection: sessions first, then every reference it
 * holds goes back (held[] lists them, one entry per reference). */
static void conn_end(uint32_t conn, const uint32_t *held, uint32_t n)
{
    gw_sessions_of_conn_end(conn);
    for (uint32_t i = 0; i < n; i++)
        cr_assert(gw_ref_release(held[i]), "the engine's reference %u (handle %u) was gone", i,
                  held[i]);
    check();
}

TestSuite(book, .init = hooks_reset);

Test(book, one_connection_cannot_take_the_others_handles)
{
    uint32_t held[GW_CONN_REFS];
    for (uint32_t i = 0; i < GW_CONN_REFS; i++) {
        held[i] = gw_ref_new(GW_LOGIN, 0, 0, 0);
        cr_assert_neq(held[i], GW_NO_HANDLE, "handle %u of connection 0's share refused", i);
    }
    cr_assert_eq(gw_ref_new(GW_LOGIN, 0, 0, 0), GW_NO_HANDLE,
                 "connection 0 got a handle beyond its share of %u", GW_CONN_REFS);
    for (uint32_t c = 1; c < GW_CONNS; c++)
        for (uint32_t i = 0; i < GW_CONN_REFS - 1; i++)
            cr_assert_neq(gw_ref_new(GW_LOGIN, c, 0, 0), GW_NO_HANDLE,
                          "connection %u refused handle %u while 0 holds its share", c, i);
    check();
    cr_assert_eq(gw_ref_new(GW_LOGIN, GW_CONNS, 0, 0), GW_NO_HANDLE, "a handle for no connection");
    conn_end(0, held, GW_CONN_REFS);
    cr_assert_eq(gw_shares[0].refs, 0);
}

Test(book, sessions_share_and_reason)
{
    uint32_t sh[GW_CONN_SESSIONS];
    for (uint32_t i = 0; i < GW_CONN_SESSIONS; i++)
        login(0, 2, &sh[i]);
    const char *why = 0;
    cr_assert_eq(gw_session_new(0, &why), 0, "a session beyond the connection's share");
    cr_assert(why && strstr(why, "share"), "refusal says \"%s\"", why ? why : "(nothing)");
    uint32_t other;
    login(1, 1, &other); /* another connection still logs in */
    conn_end(0, sh, GW_CONN_SESSIONS);
    conn_end(1, &other, 1);
    cr_assert_eq(hk.logouts, GW_CONN_SESSIONS + 1);
    all_gone();
}

Test(book, a_handle_never_names_another_connections_session)
{
    uint32_t sh;
    uint32_t sess = login(1, 1, &sh);
    cr_assert_eq(gw_ref_new(GW_REAL, 0, sess, hooks_slot()), GW_NO_HANDLE,
                 "connection 0 got a handle of connection 1's session");
    hk.live[hk.next_slot % HOOK_SLOTS] = 0; /* the refused slot stays the caller's */
    cr_assert_eq(gw_ref_new(GW_REAL, 0, GW_SESSIONS + 1, 5), GW_NO_HANDLE, "no such session");
    conn_end(1, &sh, 1);
    all_gone();
}

Test(book, releases_of_what_is_not_held_change_nothing)
{
    uint32_t h = gw_ref_new(GW_LOGIN, 2, 0, 0);
    cr_assert_not(gw_ref_release(0), "handle 0 released");
    cr_assert_not(gw_ref_release(GW_REFS), "a handle past the table released");
    cr_assert_not(gw_ref_release(UINT32_MAX));
    cr_assert_not(gw_ref_release(h + 1), "a free handle released");
    cr_assert(gw_ref_release(h));
    cr_assert_not(gw_ref_release(h), "released twice");
    cr_assert_not(gw_ref_retain(h), "a freed handle retained");
    all_gone();
}

Test(book, logout_then_the_client_releases)
{
    uint32_t sh;
    uint32_t sess = login(0, 3, &sh);
    struct gw_session *ss = gw_session_get(sess);
    uint32_t caps[3];
    for (uint32_t i = 0; i < 3; i++) { /* capSet: the engine holds each too */
        caps[i] = ss->bundle[i];
        cr_assert(gw_ref_retain(caps[i]));
    }
    gw_session_end(sess, "logout");
    gw_session_end(sess, "logout"); /* again: nothing more */
    cr_assert_eq(hk.logouts, 1);
    cr_assert_eq(hooks_live(), 3, "the engine's handles lost their slots at logout");
    check();
    for (uint32_t i = 0; i < 3; i++)
        cr_assert(gw_ref_release(caps[i]));
    cr_assert_not_null(gw_session_get(sess), "freed while its RemoteSession is held");
    cr_assert(gw_ref_release(sh));
    all_gone();
}

Test(book, releasing_the_remote_session_logs_out)
{
    uint32_t sh, cap;
    login_holding(3, 2, &sh, &cap);
    cr_assert(gw_ref_release(sh));
    cr_assert_eq(hk.logouts, 1, "releasing the RemoteSession did not log out");
    cr_assert_eq(hooks_live(), 1, "the bundle slot the engine holds was released");
    cr_assert(gw_ref_release(cap));
    all_gone();
}

Test(book, connection_ends_during_a_login)
{
    const char *why;
    uint32_t boot = gw_ref_new(GW_LOGIN, 0, 0, 0);
    uint32_t sess = gw_session_new(0, &why); /* SessionManager.login in flight */
    cr_assert(gw_op_charge(0));
    conn_end(0, &boot, 1);
    cr_assert_not_null(gw_session_get(sess), "a login in flight forgotten before its answer");
    /* The session manager's answer: the gateway ends what it began. */
    hooks_login(sess);
    cr_assert(gw_session_bundle_add(sess, "chat", 4, 1, hooks_slot()));
    gw_session_end(sess, "its login could not be completed");
    gw_op_uncharge(0);
    all_gone();
    /* A login refused at the session manager: abandoned. */
    sess = gw_session_new(0, &why);
    gw_session_abandon(sess);
    all_gone();
}

Test(book, a_call_in_flight_pins_its_session)
{
    uint32_t sh, cap;
    uint32_t sess = login_holding(0, 1, &sh, &cap);
    gw_session_pin(sess); /* a call on cap, in flight */
    conn_end(0, (uint32_t[]){sh, cap}, 2);
    cr_assert_not_null(gw_session_get(sess), "freed with a call of it in flight");
    /* Another login now must not get this session's index. */
    uint32_t sh2;
    uint32_t sess2 = login(0, 1, &sh2);
    cr_assert_neq(sess2, sess, "a pinned session's index reused");
    gw_session_unpin(sess); /* the call came back to a closed connection */
    cr_assert_null(gw_session_get(sess));
    conn_end(0, &sh2, 1);
    all_gone();
}

Test(book, ring_call_shares)
{
    for (uint32_t i = 0; i < GW_CONN_OPS; i++)
        cr_assert(gw_op_charge(1));
    cr_assert_not(gw_op_charge(1), "a ring call beyond connection 1's share of %u", GW_CONN_OPS);
    cr_assert(gw_op_charge(2), "connection 2 refused while 1 holds its share");
    cr_assert(gw_op_charge(UINT32_MAX), "the gateway's own calls are not charged");
    gw_op_uncharge(1);
    cr_assert(gw_op_charge(1));
    check();
}

Test(book, bundle_limits)
{
    const char *why;
    uint32_t sess = gw_session_new(0, &why);
    hooks_login(sess);
    cr_assert_not(gw_session_bundle_add(sess, "", 0, 1, 1), "an empty name taken");
    cr_assert_not(gw_session_bundle_add(sess, "a-name-too-long-", 16, 1, 1),
                  "a name of 16 bytes taken (%u with the NUL)", GW_NAME);
    for (uint32_t i = 0; i < GW_BUNDLE; i++)
        cr_assert(gw_session_bundle_add(sess, "x", 1, i, hooks_slot()));
    cr_assert_not(gw_session_bundle_add(sess, "x", 1, 1, 1), "a bundle beyond %u", GW_BUNDLE);
    uint32_t sh = gw_session_ready(sess);
    cr_assert_eq(gw_session_ready(sess), GW_NO_HANDLE, "ready twice");
    cr_assert_not(gw_session_bundle_add(sess, "y", 1, 1, 1), "added to a ready session");
    conn_end(0, &sh, 1);
    all_gone();
}
