/*
 * session-manager: logins (docs/sessions.md). Keeps the table of live
 * sessions (at most 16, each with 16 random bytes as its id), checks
 * passwords with the credential store, and audits every outcome.
 *
 * - setup works only while the credential store is empty: it creates the
 *   one local operator account and logs it in.
 * - login answers a failure only after a delay that doubles with each
 *   consecutive failure (200 ms, 400 ms, ... at most 3 s); a success resets
 *   it. The service answers one call at a time, so the delay also holds
 *   back everyone else's logins, which is the point: guessing is slow for
 *   the whole system, not per user name.
 * - guest sessions only when the manifest's kernelParams.guestEnabled is
 *   set (asked from system-info).
 * - check and end serve the authority broker: a UserSession is metadata,
 *   and the broker believes only what check says about its id.
 *
 * Caps: "creds" (CredentialStore), "audit" (AuditLog), "info" (SystemInfo),
 * "entropy" (session ids), "timer" (the delay), "console" (optional).
 * Export: "sessions" (SessionManager).
 */
#include "svc.h"

#define SESSIONS      16
#define ID_LEN        16
#define DELAY_BASE_NS 200000000ull  /* 200 ms after the first failure */
#define DELAY_MAX_NS  3000000000ull /* at most 3 s */

struct session {
    bool used;
    uint8_t id[ID_LEN];
    UserSession_Profile profile;
    uint8_t principal_len;
    char principal[SVC_USER_MAX + 1];
};

static struct session sessions[SESSIONS];
static uint32_t creds, audit, info, entropy, timer;
static uint32_t failures; /* consecutive failed logins */

/* Buffers of calls to other services. A password goes out from `params`,
 * which is wiped after each such call. */
static uint8_t params[1024] __attribute__((aligned(8)));
static uint8_t results[4096] __attribute__((aligned(8)));

static void audit_append(AuditLog_Kind kind, const char *who, uint32_t who_len, const char *detail)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = AuditLog_append_call(&capos_transport, audit, &c, kind, who, who_len, detail,
                                  (uint32_t)strlen(detail), 0);
    if (rc != CAPNPC_OK)
        capos_printf("session-manager: could not append to the audit log (%d)\n", rc);
}

/* An audit detail with the caller's origin after it ("operator session;
 * remote 10.0.2.2:40000"), or the detail alone for an empty origin (the
 * console). The origin is cleaned like a user name, so that a remote
 * caller's text cannot forge lines in a log that is printed. */
static void audit_from(AuditLog_Kind kind, const char *who, uint32_t who_len, const char *detail,
                       struct capn_text origin)
{
    char from[48], full[160];
    uint32_t n = svc_clean_copy(from, sizeof(from) - 1, origin.str ? origin.str : "", origin.len);
    if (n == 0) {
        audit_append(kind, who, who_len, detail);
        return;
    }
    fmt_snprintf(full, sizeof(full), "%s; %s", detail, from);
    audit_append(kind, who, who_len, full);
}

static void sleep_ns(uint64_t ns)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_sleep_call(&capos_transport, timer, &c, ns, 0);
}

/* A free slot, or NULL when 16 sessions are live. */
static struct session *free_slot(void)
{
    for (int i = 0; i < SESSIONS; i++)
        if (!sessions[i].used)
            return &sessions[i];
    return 0;
}

/* The live session with this id, comparing every slot's whole id. */
static struct session *find(const uint8_t *id, uint32_t len)
{
    if (len != ID_LEN)
        return 0;
    struct session *found = 0;
    for (int i = 0; i < SESSIONS; i++) {
        bool same = svc_ct_eq(id, sessions[i].id, ID_LEN);
        if (sessions[i].used && same)
            found = &sessions[i];
    }
    return found;
}

/* Start a session in slot s; false if no id could be had. */
static bool start(struct session *s, UserSession_Profile profile, const char *who, uint32_t len)
{
    struct capnpc_call c;
    EntropySource_fill_Results_r er;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (EntropySource_fill_call(&capos_transport, entropy, &c, ID_LEN, &er) != CAPNPC_OK)
        return false;
    struct capn_data d = EntropySource_fill_Results_get_bytes(er);
    if (d.len != ID_LEN)
        return false;
    memcpy(s->id, d.ptr, ID_LEN);
    svc_wipe(results, sizeof(results));
    s->profile = profile;
    s->principal_len = (uint8_t)len;
    memcpy(s->principal, who, len);
    s->principal[len] = 0;
    s->used = true;
    return true;
}

static void put_session(UserSession_b b, const struct session *s)
{
    UserSession_set_profile(b, s->profile);
    UserSession_set_sessionId(b, s->id, ID_LEN);
    UserSession_set_principal(b, s->principal, s->principal_len);
}

/* ---- Methods ---- */

static int greeting(void *self, SessionManager_greeting_Params_r p,
                    SessionManager_greeting_Results_b res, void *ctx)
{
    (void)self, (void)p;
    struct capnpc_call c;
    SystemInfo_motd_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = SystemInfo_motd_call(&capos_transport, info, &c, &r);
    if (rc != CAPNPC_OK)
        return svc_fail(ctx, CapException_Type_failed, "greeting: system-info did not answer (%d)",
                        rc);
    struct capn_text t = SystemInfo_motd_Results_get_text(r);
    SessionManager_greeting_Results_set_motd(res, t.str ? t.str : "", t.len);
    return CAPNPC_OK;
}

static int setup(void *self, SessionManager_setup_Params_r p, SessionManager_setup_Results_b res,
                 void *ctx)
{
    (void)self;
    struct capn_text user = SessionManager_setup_Params_get_user(p);
    struct capn_text pw = SessionManager_setup_Params_get_password(p);
    if (!svc_params_ok(ctx, p.s) || !svc_credentials_ok(ctx, "setup", user, pw))
        return CAPNPC_OK;
    if (svc_user_reserved(user.str, user.len))
        return svc_fail(ctx, CapException_Type_invalidArgument,
                        "setup: \"%.*s\" is the name of a profile, not a person's: choose "
                        "another user name",
                        (int)user.len, user.str);
    struct capnpc_call c;
    CredentialStore_count_Results_r cr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = CredentialStore_count_call(&capos_transport, creds, &c, &cr);
    if (rc != CAPNPC_OK)
        return svc_fail(ctx, CapException_Type_failed,
                        "setup: the credential store did not answer (%d)", rc);
    if (CredentialStore_count_Results_get_users(cr) != 0)
        return svc_fail(ctx, CapException_Type_failed,
                        "setup: an operator account exists already: use login");
    struct session *s = free_slot();
    if (!s)
        return svc_fail(ctx, CapException_Type_overloaded,
                        "setup: %d sessions are live already; log one out first", SESSIONS);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = CredentialStore_create_call(&capos_transport, creds, &c, user.str, user.len, pw.str,
                                     pw.len, 0);
    svc_wipe(params, sizeof(params));
    if (rc != CAPNPC_OK) {
        struct capn_text why;
        int type = svc_failure(rc, &c, &why);
        return svc_fail(ctx, type < 0 ? CapException_Type_failed : type, "setup: %.*s",
                        (int)why.len, why.str);
    }
    if (!start(s, UserSession_Profile_operator, user.str, user.len))
        return svc_fail(ctx, CapException_Type_failed,
                        "setup: the account exists, but no session id could be drawn: use login");
    audit_append(AuditLog_Kind_setup, user.str, user.len, "operator account created");
    put_session(SessionManager_setup_Results_init_session(res), s);
    return CAPNPC_OK;
}

static int login(void *self, SessionManager_login_Params_r p, SessionManager_login_Results_b res,
                 void *ctx)
{
    (void)self;
    struct capn_text user = SessionManager_login_Params_get_user(p);
    struct capn_text pw = SessionManager_login_Params_get_password(p);
    struct capn_text origin = SessionManager_login_Params_get_origin(p);
    if (!svc_params_ok(ctx, p.s))
        return CAPNPC_OK;
    if (!svc_credentials_ok(ctx, "login", user, pw)) {
        /* Cannot be anyone's password: refused at once, but recorded. */
        char who[SVC_USER_MAX + 1];
        uint32_t n = svc_clean_copy(who, SVC_USER_MAX, user.str ? user.str : "", user.len);
        audit_from(AuditLog_Kind_loginFailed, who, n, "malformed user name or password", origin);
        return CAPNPC_OK;
    }
    struct session *s = free_slot();
    if (!s)
        return svc_fail(ctx, CapException_Type_overloaded,
                        "login: %d sessions are live already; log one out first", SESSIONS);
    struct capnpc_call c;
    CredentialStore_verify_Results_r vr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = CredentialStore_verify_call(&capos_transport, creds, &c, user.str, user.len, pw.str,
                                         pw.len, &vr);
    svc_wipe(params, sizeof(params));
    if (rc != CAPNPC_OK)
        return svc_fail(ctx, CapException_Type_failed,
                        "login: the credential store could not check the password (%d)", rc);
    if (CredentialStore_verify_Results_get_ok(vr)) {
        failures = 0;
        if (!start(s, UserSession_Profile_operator, user.str, user.len))
            return svc_fail(ctx, CapException_Type_failed, "login: no session id could be drawn");
        audit_from(AuditLog_Kind_loginOk, user.str, user.len, "operator session", origin);
        put_session(SessionManager_login_Results_init_session(res), s);
        return CAPNPC_OK;
    }
    if (failures < 31)
        failures++;
    uint64_t delay = failures > 5 ? DELAY_MAX_NS : DELAY_BASE_NS << (failures - 1);
    if (delay > DELAY_MAX_NS)
        delay = DELAY_MAX_NS;
    char detail[64];
    fmt_snprintf(detail, sizeof(detail), "failure %u in a row; answered after %lu ms", failures,
                 delay / 1000000);
    audit_from(AuditLog_Kind_loginFailed, user.str, user.len, detail, origin);
    sleep_ns(delay);
    return svc_fail(ctx, CapException_Type_permissionDenied, "login: wrong user name or password");
}

static int guest(void *self, SessionManager_guest_Params_r p, SessionManager_guest_Results_b res,
                 void *ctx)
{
    (void)self;
    struct capn_text origin = SessionManager_guest_Params_get_origin(p);
    if (!svc_params_ok(ctx, p.s))
        return CAPNPC_OK;
    struct capnpc_call c;
    SystemInfo_guestEnabled_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = SystemInfo_guestEnabled_call(&capos_transport, info, &c, &r);
    /* No answer is no: fail closed. */
    if (rc != CAPNPC_OK || !SystemInfo_guestEnabled_Results_get_on(r)) {
        audit_from(AuditLog_Kind_guest, "", 0, "refused: guests are not enabled", origin);
        return svc_fail(ctx, CapException_Type_permissionDenied,
                        "guest: this system does not offer guest sessions "
                        "(kernelParams.guestEnabled is false)");
    }
    struct session *s = free_slot();
    if (!s)
        return svc_fail(ctx, CapException_Type_overloaded,
                        "guest: %d sessions are live already; log one out first", SESSIONS);
    if (!start(s, UserSession_Profile_guest, "", 0))
        return svc_fail(ctx, CapException_Type_failed, "guest: no session id could be drawn");
    audit_from(AuditLog_Kind_guest, "", 0, "guest session", origin);
    put_session(SessionManager_guest_Results_init_session(res), s);
    return CAPNPC_OK;
}

static int check(void *self, SessionManager_check_Params_r p, SessionManager_check_Results_b res,
                 void *ctx)
{
    (void)self;
    struct capn_data id = SessionManager_check_Params_get_sessionId(p);
    if (!svc_params_ok(ctx, p.s))
        return CAPNPC_OK;
    struct session *s = find(id.ptr, id.len);
    if (!s)
        return svc_fail(ctx, CapException_Type_permissionDenied,
                        "check: no live session has this id (ended, or never issued)");
    put_session(SessionManager_check_Results_init_session(res), s);
    return CAPNPC_OK;
}

static int end(void *self, SessionManager_end_Params_r p, SessionManager_end_Results_b res,
               void *ctx)
{
    (void)self, (void)res;
    struct capn_data id = SessionManager_end_Params_get_sessionId(p);
    if (!svc_params_ok(ctx, p.s))
        return CAPNPC_OK;
    struct session *s = find(id.ptr, id.len);
    if (s)
        svc_wipe(s, sizeof(*s));
    return CAPNPC_OK;
}

static const struct SessionManager_ops ops = {
    .greeting = greeting,
    .login = login,
    .setup = setup,
    .guest = guest,
    .check = check,
    .end = end,
};

int main(void)
{
    svc_name = "session-manager";
    creds = svc_need("creds", CredentialStore_INTERFACE_ID);
    audit = svc_need("audit", AuditLog_INTERFACE_ID);
    info = svc_need("info", SystemInfo_INTERFACE_ID);
    entropy = svc_need("entropy", EntropySource_INTERFACE_ID);
    timer = svc_need("timer", Timer_INTERFACE_ID);
    struct capos_server srv = {
        .endpoint = svc_need("sessions", SessionManager_INTERFACE_ID),
        .iface = &SessionManager_IFACE,
        .ops = &ops,
    };
    int rc = svc_serve(&srv);
    return rc < 0 ? 1 : 0;
}
