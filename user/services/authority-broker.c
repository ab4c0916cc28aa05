/*
 * authority-broker: what a session's shell holds (docs/sessions.md).
 *
 * shellBundle believes nothing in the UserSession it is given except the
 * id, which it looks up with SessionManager.check; the profile and
 * principal it uses are the ones check returns. A forged struct (an id
 * nobody issued, or a real id with another profile) gets nothing more than
 * the real session has.
 *
 * Every capability of a bundle is a revocable wrapper
 * (Attenuator.wrapRevocable) whose Revoker stays here, filed under the
 * session id; logout revokes them all, so the shell's copies and every
 * copy it handed to a child stop working at once. A second shellBundle for
 * the same session revokes the first bundle before issuing a new one: a
 * session has one live bundle at a time.
 *
 * Bundles (methods in brackets):
 *   anonymous  nothing
 *   guest      launcher = spawner restricted to "hello" [spawn]
 *              audit    = AuditLog [append]
 *   operator   launcher = spawner restricted to "hello", "chat-client",
 *                         "audit", "shutdown" [spawn]
 *              info     = SystemInfo [motd, guestEnabled, uptime, memory, cpuTime]
 *              chat     = Chat [post, recent]
 *              audit    = AuditLog [append, read]
 *              power    = Power [shutdown]
 * A launcher never offers restrictTo: its result would be a new spawner
 * outside the revocable wrapper, which logout could not end. A capability
 * the broker was not given (no chat service, no Power) is left out of the
 * bundles.
 *
 * Caps: "sessions" (SessionManager), "spawner" (ProcessSpawner),
 * "attenuator" (Attenuator); optional: "audit" (AuditLog), "info"
 * (SystemInfo), "chat" (Chat), "power" (Power), "console".
 * Export: "broker" (AuthorityBroker).
 */
#include "svc.h"

#define SESSIONS   16
#define ID_LEN     16
#define BUNDLE_MAX 5

struct issued {
    bool used;
    uint8_t id[ID_LEN];
    uint32_t nrevokers;
    uint32_t revokers[BUNDLE_MAX];
    /* The shell's ShellLink and our hold call on it (0: none). */
    uint32_t link;
    uint64_t hold_id;
    struct capnpc_call hold;
    uint8_t hold_params[64] __attribute__((aligned(8)));
    uint8_t hold_results[128] __attribute__((aligned(8)));
};

static struct issued issued[SESSIONS];
static uint32_t sessions, audit, info, chat, power, spawner, attenuator;

static uint8_t params[2048] __attribute__((aligned(8)));
static uint8_t results[4096] __attribute__((aligned(8)));

static const char *profile_name(unsigned p)
{
    return p < UserSession_Profile_COUNT ? UserSession_Profile_NAMES[p] : "?";
}

/* ---- Calls ---- */

/* What SessionManager.check says about id: 0 and *out filled, or the
 * CapException type of the refusal (or -1 when the call failed). */
struct real_session {
    unsigned profile;
    char principal[SVC_USER_MAX + 1];
    uint32_t principal_len;
};

static int check_session(const uint8_t *id, uint32_t len, struct real_session *out)
{
    struct capnpc_call c;
    SessionManager_check_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = SessionManager_check_call(&capos_transport, sessions, &c, id, len, &r);
    if (rc != CAPNPC_OK)
        return svc_failure(rc, &c, 0);
    UserSession_r s = SessionManager_check_Results_get_session(r);
    struct capn_data rid = UserSession_get_sessionId(s);
    struct capn_text who = UserSession_get_principal(s);
    out->profile = (unsigned)UserSession_get_profile(s);
    /* The session manager is trusted, but its answer is still checked. */
    if (!capn_ok(&c.msg) || rid.len != len || !svc_ct_eq(rid.ptr, id, len) ||
        out->profile >= UserSession_Profile_COUNT || who.len > SVC_USER_MAX)
        return CapException_Type_failed;
    out->principal_len =
        svc_clean_copy(out->principal, SVC_USER_MAX, who.str ? who.str : "", who.len);
    return 0;
}

static void end_session(const uint8_t *id)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    SessionManager_end_call(&capos_transport, sessions, &c, id, ID_LEN, 0);
}

static void audit_append(AuditLog_Kind kind, const char *who, uint32_t len, const char *detail)
{
    if (!audit)
        return;
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (AuditLog_append_call(&capos_transport, audit, &c, kind, who, len, detail,
                             (uint32_t)strlen(detail), 0) != CAPNPC_OK)
        capos_printf("authority-broker: could not append to the audit log\n");
}

/* A spawner that can start only these binaries; 0 on failure. */
static uint32_t restricted_spawner(const char *const *names, uint32_t n)
{
    uint32_t rcaps[1];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcaps, 1);
    ProcessSpawner_restrictTo_Params_b p = ProcessSpawner_restrictTo_begin(&c);
    List_Text_b list = ProcessSpawner_restrictTo_Params_init_binaries(p, n);
    for (uint32_t i = 0; i < n; i++)
        List_Text_set(list, i, names[i], (uint32_t)strlen(names[i]));
    ProcessSpawner_restrictTo_Results_r r;
    if (ProcessSpawner_restrictTo_send(&capos_transport, spawner, &c, &r) != CAPNPC_OK)
        return 0;
    uint32_t i = ProcessSpawner_restrictTo_Results_get_spawner(r);
    return i < c.reply.ncaps ? rcaps[i] : 0;
}

/* A revocable wrapper of cap offering `methods`; false on failure. */
static bool wrap_revocable(uint32_t cap, const uint16_t *methods, uint32_t n, uint32_t *wrapped,
                           uint32_t *revoker)
{
    uint32_t caps[1], rcaps[2];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, 1, rcaps, 2);
    Attenuator_wrapRevocable_Params_b p = Attenuator_wrapRevocable_begin(&c);
    Attenuator_wrapRevocable_Params_set_cap(p, capnpc_call_add_cap(&c, cap));
    List_UInt16_b l = Attenuator_wrapRevocable_Params_init_methods(p, n);
    for (uint32_t i = 0; i < n; i++)
        List_UInt16_set(l, i, methods[i]);
    Attenuator_wrapRevocable_Results_r r;
    int rc = Attenuator_wrapRevocable_send(&capos_transport, attenuator, &c, &r);
    uint32_t w = Attenuator_wrapRevocable_Results_get_wrapped(r);
    uint32_t v = Attenuator_wrapRevocable_Results_get_revoker(r);
    if (rc != CAPNPC_OK || w >= c.reply.ncaps || v >= c.reply.ncaps || w == v) {
        for (uint32_t i = 0; i < c.reply.ncaps; i++)
            capos_release(rcaps[i]);
        return false;
    }
    *wrapped = rcaps[w];
    *revoker = rcaps[v];
    return true;
}

/* Stop watching e's shell: cancel the hold call, take its completion and
 * let the link go. */
static void unlink_shell(struct issued *e)
{
    if (!e->link)
        return;
    struct capos_sqe cancel = {.opcode = CAPOS_OP_CANCEL, .target_user_data = e->hold_id};
    struct capos_cqe cqe;
    /* hold_id 0: the call has completed already (the link broke). */
    if (e->hold_id && capos_ring_submit(&cancel))
        capos_ring_wait(e->hold_id, &cqe); /* cancelled, or failed just now */
    capos_release(e->link);
    capos_flush_releases();
    e->link = 0;
    e->hold_id = 0;
}

/* Watch e's shell through its link (adopted from the call): a hold call
 * that only the link's end completes. */
static void link_shell(struct issued *e, uint32_t link)
{
    unlink_shell(e);
    e->link = link;
    e->hold_id = capos_ring_next_id();
    capnpc_call_init(&e->hold, e->hold_params, sizeof(e->hold_params), e->hold_results,
                     sizeof(e->hold_results));
    ShellLink_hold_begin(&e->hold);
    if (!capos_call_start(&e->hold, link, ShellLink_INTERFACE_ID, ShellLink_hold_METHOD,
                          e->hold_id)) {
        capos_release(link);
        e->link = 0;
        e->hold_id = 0;
    }
}

static void revoke_all(struct issued *e)
{
    for (uint32_t i = 0; i < e->nrevokers; i++) {
        struct capnpc_call c;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        if (Revoker_revoke_call(&capos_transport, e->revokers[i], &c, 0) != CAPNPC_OK)
            capos_printf("authority-broker: a revoke failed\n");
        capos_release(e->revokers[i]);
    }
    capos_flush_releases();
    e->nrevokers = 0;
}

/* ---- Bundles ---- */

struct item {
    const char *name;
    uint64_t iface;
    uint32_t base; /* the capability to wrap */
    bool launcher; /* base is made by restrictTo (and released after) */
    const char *const *binaries;
    uint32_t nbinaries;
    const uint16_t *methods;
    uint32_t nmethods;
};

static const char *const guest_binaries[] = {"hello"};
static const char *const operator_binaries[] = {"hello", "chat-client", "audit", "shutdown"};
static const uint16_t spawn_only[] = {ProcessSpawner_spawn_METHOD};
static const uint16_t append_only[] = {AuditLog_append_METHOD};
static const uint16_t append_read[] = {AuditLog_append_METHOD, AuditLog_read_METHOD};
static const uint16_t info_all[] = {SystemInfo_motd_METHOD, SystemInfo_guestEnabled_METHOD,
                                    SystemInfo_uptime_METHOD, SystemInfo_memory_METHOD,
                                    SystemInfo_cpuTime_METHOD};
static const uint16_t chat_all[] = {Chat_post_METHOD, Chat_recent_METHOD};
static const uint16_t power_all[] = {Power_shutdown_METHOD};

#define N(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))

/* The items of a profile's bundle; their count. Items whose capability
 * the broker does not hold are left out. */
static uint32_t bundle_of(unsigned profile, struct item out[BUNDLE_MAX])
{
    struct item all[BUNDLE_MAX];
    uint32_t n = 0;
    if (profile == UserSession_Profile_guest) {
        all[n++] =
            (struct item){"launcher",     ProcessSpawner_INTERFACE_ID, spawner,    true,
                          guest_binaries, N(guest_binaries),           spawn_only, N(spawn_only)};
        all[n++] = (struct item){"audit", AuditLog_INTERFACE_ID, audit,         false, 0,
                                 0,       append_only,           N(append_only)};
    } else if (profile == UserSession_Profile_operator) {
        all[n++] = (struct item){
            "launcher",        ProcessSpawner_INTERFACE_ID, spawner,    true,
            operator_binaries, N(operator_binaries),        spawn_only, N(spawn_only)};
        all[n++] = (struct item){"info",     SystemInfo_INTERFACE_ID, info, false, 0, 0, info_all,
                                 N(info_all)};
        all[n++] =
            (struct item){"chat", Chat_INTERFACE_ID, chat, false, 0, 0, chat_all, N(chat_all)};
        all[n++] = (struct item){"audit", AuditLog_INTERFACE_ID, audit,         false, 0,
                                 0,       append_read,           N(append_read)};
        all[n++] =
            (struct item){"power", Power_INTERFACE_ID, power, false, 0, 0, power_all, N(power_all)};
    }
    /* anonymous: nothing */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++)
        if (all[i].base)
            out[kept++] = all[i];
    return kept;
}

static struct issued *find(const uint8_t *id)
{
    struct issued *found = 0;
    for (int i = 0; i < SESSIONS; i++) {
        bool same = svc_ct_eq(id, issued[i].id, ID_LEN);
        if (issued[i].used && same)
            found = &issued[i];
    }
    return found;
}

/* A free entry; when all are taken, entries of sessions that ended without
 * a logout here are revoked and freed first. */
static struct issued *free_entry(void)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < SESSIONS; i++)
            if (!issued[i].used)
                return &issued[i];
        for (int i = 0; i < SESSIONS; i++) {
            struct real_session rs;
            if (check_session(issued[i].id, ID_LEN, &rs) == CapException_Type_permissionDenied) {
                unlink_shell(&issued[i]);
                revoke_all(&issued[i]);
                svc_wipe(&issued[i], sizeof(issued[i]));
            }
        }
    }
    return 0;
}

static int shell_bundle(void *self, AuthorityBroker_shellBundle_Params_r p,
                        AuthorityBroker_shellBundle_Results_b res, void *ctx)
{
    (void)self;
    struct capn_data id =
        UserSession_get_sessionId(AuthorityBroker_shellBundle_Params_get_session(p));
    if (!svc_params_ok(ctx, p.s))
        return CAPNPC_OK;
    /* Only the id counts; the claimed profile and principal are ignored. */
    uint8_t sid[ID_LEN];
    if (id.len != ID_LEN)
        return svc_fail(ctx, CapException_Type_permissionDenied,
                        "shellBundle: a session id is %d bytes; this one is %u: not a session",
                        ID_LEN, id.len);
    memcpy(sid, id.ptr, ID_LEN);
    struct real_session real;
    int st = check_session(sid, ID_LEN, &real);
    if (st == CapException_Type_permissionDenied)
        return svc_fail(ctx, CapException_Type_permissionDenied,
                        "shellBundle: no live session has this id (forged, ended or logged "
                        "out): log in again");
    if (st != 0)
        return svc_fail(ctx, CapException_Type_failed,
                        "shellBundle: the session manager could not check the session");

    uint32_t link = AuthorityBroker_shellBundle_Params_has_link(p)
                        ? capos_call_adopt(ctx, AuthorityBroker_shellBundle_Params_get_link(p),
                                           ShellLink_INTERFACE_ID)
                        : 0;
    struct item items[BUNDLE_MAX];
    uint32_t n = bundle_of(real.profile, items);
    struct issued *e = find(sid);
    if (e) {
        revoke_all(e); /* one live bundle per session: the older one ends */
    } else if (n) {
        e = free_entry();
        if (!e) {
            capos_release(link);
            return svc_fail(ctx, CapException_Type_overloaded,
                            "shellBundle: bundles of %d live sessions are out already", SESSIONS);
        }
        e->used = true;
        memcpy(e->id, sid, ID_LEN);
        e->nrevokers = 0;
    }

    uint32_t wrapped[BUNDLE_MAX];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t base = items[i].launcher
                            ? restricted_spawner(items[i].binaries, items[i].nbinaries)
                            : items[i].base;
        bool ok = base && wrap_revocable(base, items[i].methods, items[i].nmethods, &wrapped[i],
                                         &e->revokers[i]);
        if (items[i].launcher && base)
            capos_release(base); /* the wrapper holds it */
        if (!ok) {
            for (uint32_t k = 0; k < i; k++)
                capos_release(wrapped[k]);
            capos_release(link);
            unlink_shell(e);
            revoke_all(e);
            svc_wipe(e, sizeof(*e));
            return svc_fail(ctx, CapException_Type_failed,
                            "shellBundle: could not make the \"%s\" capability", items[i].name);
        }
        e->nrevokers = i + 1;
    }
    /* The launcher's list, for the shell to show; the launcher itself is
     * what enforces it. */
    for (uint32_t i = 0; i < n; i++) {
        if (!items[i].launcher)
            continue;
        List_Text_b progs =
            AuthorityBroker_shellBundle_Results_init_programs(res, items[i].nbinaries);
        for (uint32_t k = 0; k < items[i].nbinaries; k++)
            List_Text_set(progs, k, items[i].binaries[k], (uint32_t)strlen(items[i].binaries[k]));
    }
    List_ProcessSpawner_Grant_b list = AuthorityBroker_shellBundle_Results_init_caps(res, n);
    for (uint32_t i = 0; i < n; i++) {
        ProcessSpawner_Grant_b g = List_ProcessSpawner_Grant_at(list, i);
        ProcessSpawner_Grant_set_name(g, items[i].name, (uint32_t)strlen(items[i].name));
        ProcessSpawner_Grant_set_interfaceId(g, items[i].iface);
        /* Moved: the broker keeps only the revoker. */
        ProcessSpawner_Grant_set_cap(g, capos_call_add_result_cap(ctx, wrapped[i], true));
    }
    if (e && link)
        link_shell(e, link);
    else
        capos_release(link);
    capos_printf("authority-broker: %s bundle of %u capabilities for \"%s\"%s\n",
                 profile_name(real.profile), n, real.principal,
                 e && e->link ? ", linked to its shell" : "");
    return CAPNPC_OK;
}

/* A session's revocation, end and audit record, for logout and for a
 * shell that ended without one. */
static void log_out(const uint8_t *sid, struct issued *e, const char *why)
{
    uint32_t revoked = 0;
    /* Revoke first: that is what makes the logout real. */
    if (e) {
        revoked = e->nrevokers;
        unlink_shell(e);
        revoke_all(e);
        svc_wipe(e, sizeof(*e));
    }
    struct real_session real;
    if (check_session(sid, ID_LEN, &real) != 0)
        return; /* not live (any more): nothing to end or record */
    end_session(sid);
    char detail[96];
    fmt_snprintf(detail, sizeof(detail), "%s session; %u capabilities revoked%s",
                 profile_name(real.profile), revoked, why);
    audit_append(AuditLog_Kind_logout, real.principal, real.principal_len, detail);
}

/* The server woke: a hold call that completed means that shell ended. */
static void watch_shells(struct capos_server *srv)
{
    (void)srv;
    for (int i = 0; i < SESSIONS; i++) {
        struct issued *e = &issued[i];
        struct capos_cqe cqe;
        if (!e->used || !e->link || !capos_ring_try_take(e->hold_id, &cqe))
            continue;
        e->hold_id = 0; /* completed: nothing to cancel */
        capos_printf("authority-broker: a shell ended without logging out; ending its session\n");
        uint8_t sid[ID_LEN];
        memcpy(sid, e->id, ID_LEN);
        log_out(sid, e, " (its shell ended)");
    }
}

static int logout(void *self, AuthorityBroker_logout_Params_r p,
                  AuthorityBroker_logout_Results_b res, void *ctx)
{
    (void)self, (void)res;
    struct capn_data id = AuthorityBroker_logout_Params_get_sessionId(p);
    if (!svc_params_ok(ctx, p.s))
        return CAPNPC_OK;
    if (id.len != ID_LEN)
        return CAPNPC_OK; /* no such session: harmless */
    uint8_t sid[ID_LEN];
    memcpy(sid, id.ptr, ID_LEN);
    log_out(sid, find(sid), "");
    return CAPNPC_OK;
}

static const struct AuthorityBroker_ops ops = {.shellBundle = shell_bundle, .logout = logout};

int main(void)
{
    svc_name = "authority-broker";
    sessions = svc_need("sessions", SessionManager_INTERFACE_ID);
    audit = capos_capset_find("audit", AuditLog_INTERFACE_ID, 0);
    info = capos_capset_find("info", SystemInfo_INTERFACE_ID, 0);
    chat = capos_capset_find("chat", Chat_INTERFACE_ID, 0);
    power = capos_capset_find("power", Power_INTERFACE_ID, 0);
    spawner = svc_need("spawner", ProcessSpawner_INTERFACE_ID);
    attenuator = svc_need("attenuator", Attenuator_INTERFACE_ID);
    struct capos_server srv = {
        .endpoint = svc_need("broker", AuthorityBroker_INTERFACE_ID),
        .iface = &AuthorityBroker_IFACE,
        .ops = &ops,
        .wake = watch_shells,
    };
    int rc = svc_serve(&srv);
    return rc < 0 ? 1 : 0;
}
