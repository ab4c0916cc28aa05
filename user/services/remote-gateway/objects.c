/*
 * The handles the RPC engines hold, and the gateway's own objects:
 * RemoteLogin (the bootstrap capability of each connection) and
 * RemoteSession (one login).
 *
 * A login is the console's: SessionManager.login (or guest) with the
 * peer's address as the origin of the audit records, then
 * AuthorityBroker.shellBundle with a ShellLink whose owner side the
 * gateway keeps, so the session ends even if the gateway dies. Both are
 * ring calls answered later (the session manager delays failed logins),
 * so other connections are served meanwhile. The bundle's capabilities
 * are the broker's revocable wrappers, as at the console; a logout (the
 * method, the RemoteSession released, the connection lost) has the broker
 * revoke them, and the gateway also refuses every call on a capability
 * the session led to, including ones it got from calls.
 */
#include "gateway.h"

#define GW_LATER 2 /* a handler's answer comes later (not a CAPNPC_* code) */

static uint64_t results_buf[RPC_MSG_MAX / 8];

/* ---- The book's effects (book.h) ---- */

void gw_hook_release_slot(uint32_t slot)
{
    capos_release(slot);
}

/* The broker revokes the bundle and ends the session at the session
 * manager (which audits the logout); the book then drops the session's
 * own references to the bundle. */
void gw_hook_logout(struct gw_session *ss, const char *why)
{
    capos_printf("remote-gateway: conn %u: %s logged out (%s)\n", gw_conns[ss->conn].seq,
                 ss->principal[0] ? ss->principal : "guest", why);
    gw_broker_logout(ss->id, ss->link);
    ss->link = 0;
}

size_t gw_frame_one_cap(void *buf, size_t size)
{
    struct capn_seg seg;
    struct capn_bld b;
    if (size < 32)
        return 0;
    capn_bld_init(&b, &seg, 1, (uint8_t *)buf + 8, size - 8);
    RemoteLogin_login_Results_b r = {capn_bld_init_root(&b, RemoteLogin_login_Results_DATA_WORDS,
                                                        RemoteLogin_login_Results_PTR_COUNT)};
    RemoteLogin_login_Results_set_session(r, 0);
    if (b.err != CAPN_OK)
        return 0;
    uint32_t hdr[2] = {0, seg.words};
    memcpy(buf, hdr, 8);
    return 8 + (size_t)seg.words * 8;
}

/* ---- RemoteLogin ---- */

/* The call being served by a handler of ours. */
struct local {
    struct gw_conn *k;
    const struct rpc_call *call;
    struct gw_ref *self;
    uint32_t caps[RPC_RESULT_CAPS];
    uint32_t ncaps;
    enum rpc_exc exc;
    char reason[RPC_REASON_MAX];
};

__attribute__((format(printf, 3, 4))) static int fail(struct local *x, enum rpc_exc type,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(x->reason, sizeof(x->reason), fmt, ap);
    va_end(ap);
    x->exc = type;
    return CAPNPC_EXCEPTION;
}

static int start_login(struct local *x, struct capn_text user, struct capn_text pw, bool guest)
{
    uint32_t conn = (uint32_t)(x->k - gw_conns);
    const char *why = 0;
    uint32_t sess = gw_session_new(conn, &why);
    if (!sess)
        return fail(x, RPC_EXC_OVERLOADED, "overloaded: %s (%u per connection, %u in all)", why,
                    GW_CONN_SESSIONS, GW_SESSIONS);
    struct gw_op *op = gw_op_get(GW_OP_LOGIN, x->k, x->call->answer);
    if (!op) {
        gw_session_abandon(sess);
        return fail(x, RPC_EXC_OVERLOADED,
                    "overloaded: this connection has %u calls in flight, or the gateway %u",
                    GW_CONN_OPS, GW_OPS);
    }
    char origin[40];
    int on = fmt_snprintf(origin, sizeof(origin), "remote %s", x->k->peer);
    capnpc_call_init(&op->c, op->small, sizeof(op->small), op->results, GW_RESULT_BUF);
    uint16_t method;
    if (guest) {
        SessionManager_guest_Params_b p = SessionManager_guest_begin(&op->c);
        SessionManager_guest_Params_set_origin(p, origin, (uint32_t)on);
        method = SessionManager_guest_METHOD;
    } else {
        SessionManager_login_Params_b p = SessionManager_login_begin(&op->c);
        SessionManager_login_Params_set_user(p, user.str ? user.str : "", user.len);
        SessionManager_login_Params_set_password(p, pw.str ? pw.str : "", pw.len);
        SessionManager_login_Params_set_origin(p, origin, (uint32_t)on);
        method = SessionManager_login_METHOD;
    }
    if (!capos_call_start(&op->c, gw.sessions, SessionManager_INTERFACE_ID, method, gw_op_ud(op))) {
        gw_op_put(op);
        gw_session_abandon(sess);
        return fail(x, RPC_EXC_FAILED, "the login did not fit a call (user name too long?)");
    }
    op->sess = sess;
    return GW_LATER;
}

static int do_login(void *self, RemoteLogin_login_Params_r p, RemoteLogin_login_Results_b r,
                    void *vx)
{
    (void)self, (void)r;
    return start_login(vx, RemoteLogin_login_Params_get_user(p),
                       RemoteLogin_login_Params_get_password(p), false);
}

static int do_guest(void *self, RemoteLogin_guest_Params_r p, RemoteLogin_guest_Results_b r,
                    void *vx)
{
    (void)self, (void)p, (void)r;
    struct capn_text none = {0};
    return start_login(vx, none, none, true);
}

static const struct RemoteLogin_ops LOGIN_OPS = {.login = do_login, .guest = do_guest};

/* A ShellLink endpoint: the owner side stays here (*server), the client
 * facet goes to the broker. */
static bool make_link(uint32_t *server, uint32_t *client)
{
    static uint8_t p[64] __attribute__((aligned(8))), r[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    return capos_endpoint_create(gw.endpoints, ShellLink_INTERFACE_ID, &c, server, client) ==
           CAPNPC_OK;
}

/* The session manager answered a login or guest: on to the broker. */
void gw_login_done(struct gw_op *op, const struct capos_cqe *cqe)
{
    struct gw_session *ss = gw_session_get(op->sess);
    struct gw_conn *k = gw_conn_live(op->conn, op->conn_gen);
    struct capn_struct root;
    int rc = capos_call_finish(&op->c, cqe, &root);
    if (rc != CAPNPC_OK) {
        if (k)
            gw_throw_failure(&k->rpc, op->answer, rc == CAPNPC_EXCEPTION ? 0 : rc, op->results,
                             cqe->result_len);
        gw_session_abandon(op->sess);
        return;
    }
    /* login's and guest's results are the same struct: (session :UserSession). */
    UserSession_r us =
        SessionManager_login_Results_get_session((SessionManager_login_Results_r){root});
    struct capn_data id = UserSession_get_sessionId(us);
    struct capn_text who = UserSession_get_principal(us);
    if (id.len != sizeof(ss->id) || who.len >= sizeof(ss->principal)) {
        if (k)
            rpc_conn_throw(&k->rpc, op->answer, RPC_EXC_FAILED,
                           "the session manager's answer is malformed");
        gw_session_abandon(op->sess);
        return;
    }
    memcpy(ss->id, id.ptr, id.len);
    memcpy(ss->principal, who.str, who.len);
    ss->principal[who.len] = 0;
    ss->profile = UserSession_get_profile(us);
    uint32_t client = 0;
    struct gw_op *b = k ? gw_op_get(GW_OP_BUNDLE, k, op->answer) : 0;
    if (!b || !make_link(&ss->link, &client)) {
        if (k)
            rpc_conn_throw(&k->rpc, op->answer, RPC_EXC_OVERLOADED,
                           b ? "overloaded: no endpoint for the session's link"
                             : "overloaded: the gateway has no room for the login's next call");
        if (b)
            gw_op_put(b);
        gw_broker_logout(ss->id, ss->link); /* ends it at the session manager too */
        gw_session_abandon(op->sess);
        return;
    }
    b->sess = op->sess;
    b->link_client = client;
    capnpc_call_init(&b->c, b->small, sizeof(b->small), b->results, GW_RESULT_BUF);
    capnpc_call_caps(&b->c, b->pcaps, 2, b->rcaps, CAPOS_MAX_XFER);
    AuthorityBroker_shellBundle_Params_b p = AuthorityBroker_shellBundle_begin(&b->c);
    UserSession_b sb = AuthorityBroker_shellBundle_Params_init_session(p);
    UserSession_set_profile(sb, ss->profile);
    UserSession_set_sessionId(sb, ss->id, sizeof(ss->id));
    UserSession_set_principal(sb, ss->principal, (uint32_t)strlen(ss->principal));
    AuthorityBroker_shellBundle_Params_set_link(p, capnpc_call_add_cap(&b->c, client));
    if (!capos_call_start(&b->c, gw.broker, AuthorityBroker_INTERFACE_ID,
                          AuthorityBroker_shellBundle_METHOD, gw_op_ud(b))) {
        rpc_conn_throw(&k->rpc, op->answer, RPC_EXC_FAILED, "the bundle request did not fit");
        capos_release(client);
        gw_op_put(b);
        gw_broker_logout(ss->id, ss->link);
        gw_session_abandon(op->sess);
    }
}

/* The broker issued the bundle: the session is ready; answer the login. */
void gw_bundle_done(struct gw_op *op, const struct capos_cqe *cqe)
{
    struct gw_session *ss = gw_session_get(op->sess);
    struct gw_conn *k = gw_conn_live(op->conn, op->conn_gen);
    capos_release(op->link_client); /* the broker has its copy */
    struct capn_struct root;
    int rc = capos_call_finish(&op->c, cqe, &root);
    uint32_t n = op->c.reply.ncaps;
    bool taken[CAPOS_MAX_XFER] = {0};
    if (rc == CAPNPC_OK && k) {
        List_ProcessSpawner_Grant_r list = AuthorityBroker_shellBundle_Results_get_caps(
            (AuthorityBroker_shellBundle_Results_r){root});
        for (uint32_t i = 0; i < List_ProcessSpawner_Grant_len(list) && ss->nbundle < GW_BUNDLE;
             i++) {
            ProcessSpawner_Grant_r g = List_ProcessSpawner_Grant_get(list, i);
            struct capn_text name = ProcessSpawner_Grant_get_name(g);
            uint32_t idx = ProcessSpawner_Grant_get_cap(g);
            if (idx >= n || taken[idx] || name.len == 0 || name.len >= GW_NAME)
                continue;
            if (!gw_session_bundle_add(op->sess, name.str, name.len,
                                       ProcessSpawner_Grant_get_interfaceId(g), op->rcaps[idx]))
                break;
            taken[idx] = true;
        }
    }
    /* Capabilities the list did not name: not ours to keep. */
    for (uint32_t i = 0; i < n; i++)
        if (!taken[i])
            capos_release(op->rcaps[i]);
    uint32_t sh = rc == CAPNPC_OK && k ? gw_session_ready(op->sess) : RPC_NO_CAP;
    if (sh == RPC_NO_CAP) {
        if (k && rc != CAPNPC_OK)
            gw_throw_failure(&k->rpc, op->answer, rc == CAPNPC_EXCEPTION ? 0 : rc, op->results,
                             cqe->result_len);
        else if (k)
            rpc_conn_throw(&k->rpc, op->answer, RPC_EXC_OVERLOADED,
                           "overloaded: the gateway has no room for another session");
        /* End it like any other: revoke, log out, drop what we took. */
        gw_session_end(op->sess, "its login could not be completed");
        return;
    }
    capos_printf("remote-gateway: conn %u from %s: %s logged in (%s), %u capabilities\n", k->seq,
                 k->peer, ss->principal[0] ? ss->principal : "guest",
                 ss->profile == UserSession_Profile_operator ? "operator" : "guest", ss->nbundle);
    uint8_t frame[64] __attribute__((aligned(8)));
    size_t len = gw_frame_one_cap(frame, sizeof(frame));
    rpc_conn_return(&k->rpc, op->answer, frame, len, &sh, 1);
}

/* ---- RemoteSession ---- */

static struct gw_session *live_session(struct local *x)
{
    struct gw_session *ss = gw_session_get(x->self->sess);
    return ss && !ss->logged_out ? ss : 0;
}

static int do_capset(void *self, RemoteSession_capSet_Params_r p, RemoteSession_capSet_Results_b r,
                     void *vx)
{
    (void)self, (void)p;
    struct local *x = vx;
    struct gw_session *ss = live_session(x);
    if (!ss)
        return fail(x, RPC_EXC_DISCONNECTED, "disconnected: this session was logged out");
    List_NamedCap_b l = RemoteSession_capSet_Results_init_caps(r, ss->nbundle);
    for (uint32_t i = 0; i < ss->nbundle; i++) {
        NamedCap_b nc = List_NamedCap_at(l, i);
        NamedCap_set_name(nc, ss->names[i], (uint32_t)strlen(ss->names[i]));
        NamedCap_set_interfaceId(nc, ss->ifaces[i]);
        NamedCap_set_cap(nc, x->ncaps);
        gw_ref_retain(ss->bundle[i]); /* the engine's reference */
        x->caps[x->ncaps++] = ss->bundle[i];
    }
    return CAPNPC_OK;
}

static int do_whoami(void *self, RemoteSession_whoami_Params_r p, RemoteSession_whoami_Results_b r,
                     void *vx)
{
    (void)self, (void)p;
    struct local *x = vx;
    struct gw_session *ss = live_session(x);
    if (!ss)
        return fail(x, RPC_EXC_DISCONNECTED, "disconnected: this session was logged out");
    RemoteSession_whoami_Results_set_profile(r, ss->profile);
    RemoteSession_whoami_Results_set_principal(r, ss->principal, (uint32_t)strlen(ss->principal));
    return CAPNPC_OK;
}

static int do_logout(void *self, RemoteSession_logout_Params_r p, RemoteSession_logout_Results_b r,
                     void *vx)
{
    (void)self, (void)p, (void)r;
    struct local *x = vx;
    gw_session_end(x->self->sess, "logout");
    return CAPNPC_OK;
}

static const struct RemoteSession_ops SESSION_OPS = {
    .capSet = do_capset, .whoami = do_whoami, .logout = do_logout};

void gw_call_local(struct gw_conn *k, const struct rpc_call *call, struct gw_ref *r)
{
    uint64_t want = r->kind == GW_LOGIN ? RemoteLogin_INTERFACE_ID : RemoteSession_INTERFACE_ID;
    if (call->interface_id != want) {
        char why[RPC_REASON_MAX];
        fmt_snprintf(why, sizeof(why), "this capability is a %s, not interface %#lx",
                     r->kind == GW_LOGIN ? "RemoteLogin" : "RemoteSession",
                     (unsigned long)call->interface_id);
        rpc_conn_throw(&k->rpc, call->answer, RPC_EXC_UNIMPL, why);
        return;
    }
    struct capn_seg psegs[RPC_MAX_SEGS], rseg;
    struct capn_msg params;
    struct capn_bld b;
    if (capn_msg_read(&params, psegs, RPC_MAX_SEGS, call->params, call->params_len, NULL) !=
        CAPN_OK) {
        rpc_conn_throw(&k->rpc, call->answer, RPC_EXC_FAILED, "params are not a framed message");
        return;
    }
    params.cap_count = call->ncaps;
    capn_bld_init(&b, &rseg, 1, (uint8_t *)results_buf + 8, sizeof(results_buf) - 8);
    struct local x = {.k = k, .call = call, .self = r};
    int rc = r->kind == GW_LOGIN
                 ? RemoteLogin_dispatch(&LOGIN_OPS, 0, call->method, &params, &b, &x)
                 : RemoteSession_dispatch(&SESSION_OPS, 0, call->method, &params, &b, &x);
    if (rc == GW_LATER)
        return;
    if (rc == CAPNPC_OK && b.err == CAPN_OK) {
        uint32_t hdr[2] = {0, rseg.words};
        memcpy(results_buf, hdr, 8);
        rpc_conn_return(&k->rpc, call->answer, results_buf, 8 + (size_t)rseg.words * 8, x.caps,
                        x.ncaps);
        return;
    }
    for (uint32_t i = 0; i < x.ncaps; i++)
        gw_ref_release(x.caps[i]);
    if (rc == CAPNPC_EXCEPTION)
        rpc_conn_throw(&k->rpc, call->answer, x.exc, x.reason);
    else if (rc == CAPNPC_E_BAD_METHOD)
        rpc_conn_throw(&k->rpc, call->answer, RPC_EXC_UNIMPL, "no such method");
    else
        rpc_conn_throw(&k->rpc, call->answer, RPC_EXC_FAILED,
                       rc == CAPNPC_E_BAD_PARAMS ? "malformed params" : "results too big");
}
