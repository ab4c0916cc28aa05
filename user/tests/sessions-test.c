/*
 * QEMU test program for the session services (docs/sessions.md,
 * tests/qemu/systems/sessions.cue). It plays a shell: it holds only
 * "sessions" (SessionManager) and "broker" (AuthorityBroker) from the
 * session services, plus "endpoints" to make StdIO endpoints for the
 * programs it starts through a session's launcher, and "lifetime" to end
 * the resident services when it is done.
 *
 * Argon2id costs about a second per hash under TCG, so the test hashes
 * five times: the login before setup, setup, a wrong password, an unknown
 * user, the right password.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "testlib.h"
#include "text/fmt.h"

#define MOTD     "sessions test motd"
#define USER     "ada\xc3\xa9" /* UTF-8 is a name's to have */
#define PASSWORD "correct horse"
#define ID_LEN   16

static uint8_t params[4096] __attribute__((aligned(8)));
static uint8_t results[16384] __attribute__((aligned(8)));
static uint32_t sessions, broker, timer, endpoints;

/* 0 for results, 1 + the CapException type, or a negative transport error. */
static int outcome(int rc, struct capnpc_call *c)
{
    if (rc == CAPNPC_EXCEPTION)
        return 1 + (int)CapException_get_type(CapException_read_root(&c->msg));
    return rc;
}

#define DENIED       (1 + CapException_Type_permissionDenied)
#define FAILED       (1 + CapException_Type_failed)
#define INVALID      (1 + CapException_Type_invalidArgument)
#define DISCONNECTED (1 + CapException_Type_disconnected)

static void exception_text(struct capnpc_call *c, char *out, size_t size)
{
    struct capn_text t = CapException_get_message(CapException_read_root(&c->msg));
    fmt_snprintf(out, size, "%.*s", (int)t.len, t.str ? t.str : "");
}

static uint64_t now_ns(void)
{
    struct capnpc_call c;
    Timer_now_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    return Timer_now_call(&capos_transport, timer, &c, &r) == CAPNPC_OK
               ? Timer_now_Results_get_ns(r)
               : 0;
}

/* ---- Sessions ---- */

struct session {
    UserSession_Profile profile;
    uint8_t id[ID_LEN];
    char principal[32];
};

static bool take_session(UserSession_r s, struct session *out)
{
    struct capn_data id = UserSession_get_sessionId(s);
    struct capn_text who = UserSession_get_principal(s);
    if (id.len != ID_LEN || who.len >= sizeof(out->principal))
        return false;
    out->profile = UserSession_get_profile(s);
    memcpy(out->id, id.ptr, ID_LEN);
    memcpy(out->principal, who.str, who.len);
    out->principal[who.len] = 0;
    return true;
}

/* login (setup = false) or setup; the outcome, *out on success, the time it
 * took in *ms, the exception message in msg. */
static int log_in(bool setup, const char *user, const char *pw, struct session *out, uint64_t *ms,
                  char *msg, size_t msg_size)
{
    struct capnpc_call c;
    uint64_t t0 = now_ns();
    int rc;
    UserSession_r s;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (setup) {
        SessionManager_setup_Results_r r;
        rc = SessionManager_setup_call(&capos_transport, sessions, &c, user, (uint32_t)strlen(user),
                                       pw, (uint32_t)strlen(pw), &r);
        s = SessionManager_setup_Results_get_session(r);
    } else {
        SessionManager_login_Results_r r;
        rc = SessionManager_login_call(&capos_transport, sessions, &c, user, (uint32_t)strlen(user),
                                       pw, (uint32_t)strlen(pw), "", 0, &r);
        s = SessionManager_login_Results_get_session(r);
    }
    int o = outcome(rc, &c);
    if (msg)
        msg[0] = 0;
    if (o > 0 && msg)
        exception_text(&c, msg, msg_size);
    if (o == 0 && out && !take_session(s, out))
        o = -1000;
    if (ms)
        *ms = (now_ns() - t0) / 1000000;
    return o;
}

/* ---- Bundles ---- */

struct bundle {
    uint32_t n;
    char names[CAPOS_MAX_XFER][33];
    uint64_t ifaces[CAPOS_MAX_XFER];
    uint32_t caps[CAPOS_MAX_XFER];
};

static uint32_t bundle_cap(const struct bundle *b, const char *name, uint64_t iface)
{
    for (uint32_t i = 0; i < b->n; i++)
        if (strcmp(b->names[i], name) == 0 && b->ifaces[i] == iface)
            return b->caps[i];
    return 0;
}

/* shellBundle for a UserSession with these (possibly forged) fields,
 * with a ShellLink client facet (link) or none (0). */
static int get_bundle_linked(UserSession_Profile profile, const uint8_t *id, uint32_t id_len,
                             const char *principal, uint32_t link, struct bundle *out)
{
    uint32_t rcaps[CAPOS_MAX_XFER], caps[1];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, 1, rcaps, CAPOS_MAX_XFER);
    AuthorityBroker_shellBundle_Params_b p = AuthorityBroker_shellBundle_begin(&c);
    UserSession_b s = AuthorityBroker_shellBundle_Params_init_session(p);
    UserSession_set_profile(s, profile);
    UserSession_set_sessionId(s, id, id_len);
    UserSession_set_principal(s, principal, (uint32_t)strlen(principal));
    if (link)
        AuthorityBroker_shellBundle_Params_set_link(p, capnpc_call_add_cap(&c, link));
    AuthorityBroker_shellBundle_Results_r r;
    int o = outcome(AuthorityBroker_shellBundle_send(&capos_transport, broker, &c, &r), &c);
    out->n = 0;
    if (o != 0)
        return o;
    List_ProcessSpawner_Grant_r list = AuthorityBroker_shellBundle_Results_get_caps(r);
    for (uint32_t i = 0; i < List_ProcessSpawner_Grant_len(list) && i < CAPOS_MAX_XFER; i++) {
        ProcessSpawner_Grant_r g = List_ProcessSpawner_Grant_get(list, i);
        struct capn_text name = ProcessSpawner_Grant_get_name(g);
        uint32_t idx = ProcessSpawner_Grant_get_cap(g);
        if (idx >= c.reply.ncaps || name.len > 32)
            continue;
        memcpy(out->names[out->n], name.str, name.len);
        out->names[out->n][name.len] = 0;
        out->ifaces[out->n] = ProcessSpawner_Grant_get_interfaceId(g);
        out->caps[out->n++] = rcaps[idx];
    }
    return 0;
}

static int get_bundle(UserSession_Profile profile, const uint8_t *id, uint32_t id_len,
                      const char *principal, struct bundle *out)
{
    return get_bundle_linked(profile, id, id_len, principal, 0, out);
}

static void drop_bundle(struct bundle *b)
{
    for (uint32_t i = 0; i < b->n; i++)
        capos_release(b->caps[i]);
    capos_flush_releases();
    b->n = 0;
}

/* ---- Using bundle capabilities ---- */

static int info_motd(uint32_t info, char *out, size_t size)
{
    struct capnpc_call c;
    SystemInfo_motd_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int o = outcome(SystemInfo_motd_call(&capos_transport, info, &c, &r), &c);
    if (o == 0 && out) {
        struct capn_text t = SystemInfo_motd_Results_get_text(r);
        fmt_snprintf(out, size, "%.*s", (int)t.len, t.str ? t.str : "");
    }
    return o;
}

/* SystemInfo.memory: this process's own line of the ledger (by name),
 * and the number of accounts listed. */
static int info_memory(uint32_t info, MemoryUsage_r *mine, uint32_t *listed, bool *found)
{
    static struct capnpc_call c;
    SystemInfo_memory_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int o = outcome(SystemInfo_memory_call(&capos_transport, info, &c, &r), &c);
    *found = false;
    *listed = 0;
    if (o != 0)
        return o;
    List_FrameLedger_Account_r l = SystemInfo_memory_Results_get_accounts(r);
    *listed = List_FrameLedger_Account_len(l);
    for (uint32_t i = 0; i < *listed; i++) {
        FrameLedger_Account_r a = List_FrameLedger_Account_get(l, i);
        struct capn_text n = FrameLedger_Account_get_name(a);
        if (n.len == 13 && memcmp(n.str, "sessions-test", 13) == 0 &&
            FrameLedger_Account_get_running(a)) {
            *mine = FrameLedger_Account_get_usage(a);
            *found = true;
        }
    }
    return 0;
}

static int chat_recent(uint32_t chat, uint32_t max, const char *want, bool *found)
{
    struct capnpc_call c;
    Chat_recent_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int o = outcome(Chat_recent_call(&capos_transport, chat, &c, max, &r), &c);
    if (found)
        *found = false;
    if (o == 0 && want && found) {
        List_Text_r l = Chat_recent_Results_get_lines(r);
        for (uint32_t i = 0; i < List_Text_len(l); i++) {
            struct capn_text t = List_Text_get(l, i);
            if (t.len == strlen(want) && memcmp(t.str, want, t.len) == 0)
                *found = true;
        }
    }
    return o;
}

/* The audit log through `audit`: true if the records from 1 on contain
 * setup, loginFailed and loginOk of USER in that order. */
static int audit_check(uint32_t audit, bool *in_order, uint32_t max)
{
    struct capnpc_call c;
    AuditLog_read_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int o = outcome(AuditLog_read_call(&capos_transport, audit, &c, 1, max, &r), &c);
    *in_order = false;
    if (o != 0)
        return o;
    static const AuditLog_Kind want[] = {AuditLog_Kind_setup, AuditLog_Kind_loginFailed,
                                         AuditLog_Kind_loginOk};
    unsigned k = 0;
    uint32_t last = 0;
    bool seq_ok = true;
    List_AuditLog_Record_r l = AuditLog_read_Results_get_records(r);
    for (uint32_t i = 0; i < List_AuditLog_Record_len(l); i++) {
        AuditLog_Record_r rec = List_AuditLog_Record_get(l, i);
        struct capn_text who = AuditLog_Record_get_principal(rec);
        struct capn_text what = AuditLog_Record_get_detail(rec);
        uint32_t seq = AuditLog_Record_get_seq(rec);
        AuditLog_Kind kind = AuditLog_Record_get_kind(rec);
        capos_printf("sessions-test:   audit #%u %s \"%.*s\" %.*s\n", seq,
                     (unsigned)kind < AuditLog_Kind_COUNT ? AuditLog_Kind_NAMES[kind] : "?",
                     (int)who.len, who.str, (int)what.len, what.str);
        seq_ok &= seq == last + 1;
        last = seq;
        if (k < 3 && kind == want[k] && who.len == strlen(USER) &&
            memcmp(who.str, USER, who.len) == 0)
            k++;
    }
    *in_order = k == 3 && seq_ok && AuditLog_read_Results_get_next(r) == last + 1;
    return 0;
}

/* ---- Running a program through a launcher, serving its StdIO ---- */

static uint8_t io_buf[8192] __attribute__((aligned(8)));
static uint8_t io_reply[1024] __attribute__((aligned(8)));
static uint8_t wait_buf[64] __attribute__((aligned(8)));

/* Answer StdIO call `call_id` (method m): write appends to out, readLine
 * gets `input`. */
static void stdio_answer(uint32_t server, const struct capos_cqe *rc, const char *input, char *out,
                         size_t size, size_t *len)
{
    const struct capos_recv_header *h = (const void *)io_buf;
    uint8_t arena[1024] __attribute__((aligned(8)));
    struct capn_seg seg, segs[4];
    struct capn_bld b;
    struct capn_msg msg;
    size_t n = 0;
    bool ex = false;
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    bool ok = h->params_offset <= sizeof(io_buf) &&
              h->params_len <= sizeof(io_buf) - h->params_offset &&
              capn_msg_read(&msg, segs, 4, io_buf + h->params_offset, h->params_len, 0) == CAPN_OK;
    if (ok && h->method == StdIO_write_METHOD) {
        struct capn_data d = StdIO_write_Params_get_data(StdIO_write_Params_read_root(&msg));
        for (uint32_t i = 0; i < d.len && *len + 1 < size; i++)
            out[(*len)++] = (char)d.ptr[i];
        out[*len] = 0;
        StdIO_write_Results_build_root(&b);
    } else if (ok && h->method == StdIO_readLine_METHOD) {
        StdIO_readLine_Results_b res = StdIO_readLine_Results_build_root(&b);
        StdIO_readLine_Results_set_line(res, input, (uint32_t)strlen(input));
        StdIO_readLine_Results_set_status(res, TerminalSession_LineStatus_ok);
    } else {
        CapException_b e = CapException_build_root(&b);
        CapException_set_type(e, CapException_Type_unimplemented);
        CapException_set_message(e, "no such StdIO method", 20);
        ex = true;
    }
    capn_bld_write(&b, io_reply, sizeof(io_reply), &n);
    struct capos_sqe ret = {.opcode = CAPOS_OP_RETURN,
                            .cap = server,
                            .flags = ex ? CAPOS_SQE_F_EXCEPTION : 0,
                            .call_id = rc->call_id,
                            .params_addr = (uint64_t)io_reply,
                            .params_len = (uint32_t)n,
                            .user_data = capos_ring_next_id()};
    struct capos_cqe done;
    if (capos_ring_submit(&ret))
        capos_ring_wait(ret.user_data, &done);
}

/*
 * Spawn `binary` through `launcher` with a fresh StdIO as "stdio" and,
 * if extra_cap, extra_cap as extra_name; serve its StdIO (collecting what
 * it writes in out, answering readLine with input) until it exits. Returns
 * the spawn's outcome; *code is the exit code.
 */
static int run_program(uint32_t launcher, const char *binary, const char *extra_name,
                       uint64_t extra_iface, uint32_t extra_cap, const char *input, char *out,
                       size_t size, int32_t *code)
{
    out[0] = 0;
    *code = -1;
    /* The StdIO endpoint. */
    uint32_t rcaps[4], caps[4];
    struct capnpc_call c;
    EndpointFactory_create_Results_r er;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcaps, 4);
    int o = outcome(
        EndpointFactory_create_call(&capos_transport, endpoints, &c, StdIO_INTERFACE_ID, &er), &c);
    uint32_t si = EndpointFactory_create_Results_get_server(er);
    uint32_t ci = EndpointFactory_create_Results_get_client(er);
    if (o != 0 || si >= c.reply.ncaps || ci >= c.reply.ncaps)
        return o ? o : -1000;
    uint32_t server = rcaps[si], client = rcaps[ci];

    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, 4, rcaps, 4);
    ProcessSpawner_spawn_Params_b p = ProcessSpawner_spawn_begin(&c);
    ProcessSpawner_spawn_Params_set_name(p, binary, (uint32_t)strlen(binary));
    ProcessSpawner_spawn_Params_set_binaryName(p, binary, (uint32_t)strlen(binary));
    List_ProcessSpawner_Grant_b g = ProcessSpawner_spawn_Params_init_grants(p, extra_cap ? 2 : 1);
    ProcessSpawner_Grant_b g0 = List_ProcessSpawner_Grant_at(g, 0);
    ProcessSpawner_Grant_set_name(g0, "stdio", 5);
    ProcessSpawner_Grant_set_interfaceId(g0, StdIO_INTERFACE_ID);
    ProcessSpawner_Grant_set_cap(g0, capnpc_call_add_cap(&c, client));
    if (extra_cap) {
        ProcessSpawner_Grant_b g1 = List_ProcessSpawner_Grant_at(g, 1);
        ProcessSpawner_Grant_set_name(g1, extra_name, (uint32_t)strlen(extra_name));
        ProcessSpawner_Grant_set_interfaceId(g1, extra_iface);
        ProcessSpawner_Grant_set_cap(g1, capnpc_call_add_cap(&c, extra_cap));
    }
    ProcessSpawner_spawn_Params_init_exports(p, 0);
    ProcessSpawner_spawn_Results_r sr;
    o = outcome(ProcessSpawner_spawn_send(&capos_transport, launcher, &c, &sr), &c);
    uint32_t hi = ProcessSpawner_spawn_Results_get_handle(sr);
    capos_release(client); /* the child has its copy */
    if (o != 0 || hi >= c.reply.ncaps) {
        capos_release(server);
        capos_flush_releases();
        return o ? o : -1000;
    }
    uint32_t handle = rcaps[hi];

    /* Wait for the exit while serving StdIO: both are calls on the ring. */
    static const uint64_t empty[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
    struct capos_sqe w = {.opcode = CAPOS_OP_CALL,
                          .cap = handle,
                          .interface_id = ProcessHandle_INTERFACE_ID,
                          .method = ProcessHandle_wait_METHOD,
                          .params_addr = (uint64_t)empty,
                          .params_len = sizeof(empty),
                          .result_addr = (uint64_t)wait_buf,
                          .result_len = sizeof(wait_buf),
                          .user_data = capos_ring_next_id()};
    capos_ring_submit(&w);
    size_t len = 0;
    struct capos_cqe wc, rc;
    for (;;) {
        struct capos_sqe rs = {.opcode = CAPOS_OP_RECV,
                               .cap = server,
                               .result_addr = (uint64_t)io_buf,
                               .result_len = sizeof(io_buf),
                               .user_data = capos_ring_next_id()};
        capos_ring_submit(&rs);
        bool exited = false, got = false;
        while (!exited && !got) {
            got = capos_ring_try_take(rs.user_data, &rc);
            exited = !got && capos_ring_try_take(w.user_data, &wc);
            if (!got && !exited)
                capos_ring_wait_new();
        }
        if (got && rc.result == 0) {
            stdio_answer(server, &rc, input, out, size, &len);
            continue;
        }
        if (got) /* the RECV failed: only the exit is left to wait for */
            capos_ring_wait(w.user_data, &wc);
        /* Closing the endpoint ends the RECV still waiting on it. */
        capos_release(server);
        capos_flush_releases();
        if (!got) {
            for (int i = 0; i < 20 && !capos_ring_try_take(rs.user_data, &rc); i++)
                capos_cap_enter(1, 50000000);
        }
        break;
    }
    struct capn_seg segs[2];
    struct capn_msg msg;
    if (wc.result == 0 && capn_msg_read(&msg, segs, 2, wait_buf, wc.result_len, 0) == CAPN_OK)
        *code = ProcessHandle_wait_Results_get_exitCode(ProcessHandle_wait_Results_read_root(&msg));
    capos_release(handle);
    capos_flush_releases();
    return 0;
}

/* launcher.spawn of a binary with no grants: its outcome (the child, if
 * any, is left to exit on its own: hello without stdio or console only
 * prints nothing and exits). */
static int try_spawn(uint32_t launcher, const char *binary)
{
    uint32_t rcaps[4];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcaps, 4);
    ProcessSpawner_spawn_Params_b p = ProcessSpawner_spawn_begin(&c);
    ProcessSpawner_spawn_Params_set_name(p, binary, (uint32_t)strlen(binary));
    ProcessSpawner_spawn_Params_set_binaryName(p, binary, (uint32_t)strlen(binary));
    ProcessSpawner_spawn_Params_init_grants(p, 0);
    ProcessSpawner_spawn_Params_init_exports(p, 0);
    int o = outcome(ProcessSpawner_spawn_send(&capos_transport, launcher, &c, 0), &c);
    for (uint32_t i = 0; i < c.reply.ncaps; i++)
        capos_release(rcaps[i]);
    capos_flush_releases();
    return o;
}

/* ---- The test ---- */

int main(void)
{
    sessions = capos_capset_find("sessions", SessionManager_INTERFACE_ID, 0);
    broker = capos_capset_find("broker", AuthorityBroker_INTERFACE_ID, 0);
    timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    endpoints = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    uint32_t lifetime = capos_capset_find("lifetime", Echo_INTERFACE_ID, 0);
    if (!sessions || !broker || !timer || !endpoints) {
        capos_printf("sessions-test: needs sessions, broker, timer and endpoints: FAILED\n");
        return 1;
    }
    struct capnpc_call c;
    char msg[256], text[256];
    uint64_t ms;
    int o;

    /* The greeting is the manifest's MOTD. */
    SessionManager_greeting_Results_r gr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    o = outcome(SessionManager_greeting_call(&capos_transport, sessions, &c, &gr), &c);
    struct capn_text motd =
        o == 0 ? SessionManager_greeting_Results_get_motd(gr) : (struct capn_text){"", 0};
    CHECK(o == 0 && motd.len == strlen(MOTD) && memcmp(motd.str, MOTD, motd.len) == 0,
          "greeting is the MOTD \"%.*s\"", (int)motd.len, motd.str);

    /* Capabilities sent with calls that take none are released by the
     * service: 300 calls, each carrying a copy of our Timer, would fill
     * its table (256 slots) otherwise. */
    int sent_ok = 0;
    for (int i = 0; i < 300; i++) {
        uint32_t caps[1];
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        capnpc_call_caps(&c, caps, 1, 0, 0);
        SessionManager_greeting_begin(&c);
        capnpc_call_add_cap(&c, timer);
        sent_ok += SessionManager_greeting_send(&capos_transport, sessions, &c, 0) == CAPNPC_OK;
    }
    CHECK(sent_ok == 300, "300 greetings each carrying a capability: %d answered", sent_ok);

    /* Before setup nobody can log in; the failure is delayed (200 ms). */
    uint64_t first_ms;
    o = log_in(false, USER, PASSWORD, 0, &first_ms, msg, sizeof(msg));
    CHECK(o == DENIED && first_ms >= 200, "login before setup: permissionDenied after %lu ms (%s)",
          first_ms, msg);

    /* Hostile input is refused before anything is hashed or created. */
    o = log_in(true, "bad name!", PASSWORD, 0, &ms, msg, sizeof(msg));
    CHECK(o == INVALID, "setup with the user name \"bad name!\": invalidArgument (%s)", msg);
    char long_pw[130];
    memset(long_pw, 'x', 129);
    long_pw[129] = 0;
    o = log_in(true, USER, long_pw, 0, &ms, msg, sizeof(msg));
    CHECK(o == INVALID, "setup with a 129-byte password: invalidArgument (%s)", msg);
    o = log_in(true, USER, "", 0, &ms, msg, sizeof(msg));
    CHECK(o == INVALID, "setup with an empty password: invalidArgument (%s)", msg);
    /* Profile names are nobody's user name, in any case. */
    const char *const reserved[] = {"operator", "Guest", "ANONYMOUS"};
    for (unsigned i = 0; i < 3; i++) {
        o = log_in(true, reserved[i], PASSWORD, 0, &ms, msg, sizeof(msg));
        CHECK(o == INVALID, "setup(\"%s\"), a reserved name: invalidArgument (%s)", reserved[i],
              msg);
    }
    o = log_in(true, "bad\xc3", PASSWORD, 0, &ms, msg, sizeof(msg));
    CHECK(o == INVALID, "setup with a user name cut inside a UTF-8 character: invalidArgument (%s)",
          msg);

    /* setup creates the operator account and logs it in. */
    struct session s1;
    o = log_in(true, USER, PASSWORD, &s1, &ms, msg, sizeof(msg));
    CHECK(o == 0 && s1.profile == UserSession_Profile_operator && strcmp(s1.principal, USER) == 0,
          "setup(\"%s\"): an operator session for \"%s\" in %lu ms", USER,
          o == 0 ? s1.principal : "", ms);
    o = log_in(true, "mallory", "another one", 0, &ms, msg, sizeof(msg));
    CHECK(o == FAILED && strstr(msg, "use login"), "a second setup: failed (%s)", msg);

    /* Wrong password and unknown user: the same refusal, delayed longer
     * with each consecutive failure (400 ms, then 800 ms). */
    uint64_t wrong_ms, unknown_ms;
    char msg2[256];
    o = log_in(false, USER, "wrong horse", 0, &wrong_ms, msg, sizeof(msg));
    CHECK(o == DENIED && wrong_ms >= 400,
          "wrong password: permissionDenied after %lu ms (longer than the first failure's "
          "200 ms delay)",
          wrong_ms);
    o = log_in(false, "mallory", PASSWORD, 0, &unknown_ms, msg2, sizeof(msg2));
    CHECK(o == DENIED && unknown_ms >= 800 && strcmp(msg, msg2) == 0,
          "unknown user: the same refusal (\"%s\") after %lu ms", msg2, unknown_ms);

    /* The right password. */
    struct session s2;
    o = log_in(false, USER, PASSWORD, &s2, &ms, msg, sizeof(msg));
    CHECK(o == 0 && s2.profile == UserSession_Profile_operator && strcmp(s2.principal, USER) == 0 &&
              memcmp(s1.id, s2.id, ID_LEN) != 0,
          "login with the right password: a new operator session in %lu ms", ms);

    /* check knows it; end of an unknown id is harmless. */
    SessionManager_check_Results_r cr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    o = outcome(SessionManager_check_call(&capos_transport, sessions, &c, s2.id, ID_LEN, &cr), &c);
    CHECK(o == 0 && UserSession_get_profile(SessionManager_check_Results_get_session(cr)) ==
                        UserSession_Profile_operator,
          "SessionManager.check knows the session");
    uint8_t bogus[ID_LEN];
    for (int i = 0; i < ID_LEN; i++)
        bogus[i] = (uint8_t)(0xa5 ^ (i * 37) ^ s2.id[i]);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    o = outcome(SessionManager_end_call(&capos_transport, sessions, &c, bogus, ID_LEN, 0), &c);
    CHECK(o == 0, "SessionManager.end of an unknown id: harmless");

    /* The operator bundle. */
    struct bundle b1;
    o = get_bundle(s2.profile, s2.id, ID_LEN, s2.principal, &b1);
    uint32_t launcher = bundle_cap(&b1, "launcher", ProcessSpawner_INTERFACE_ID);
    uint32_t info = bundle_cap(&b1, "info", SystemInfo_INTERFACE_ID);
    uint32_t chat = bundle_cap(&b1, "chat", Chat_INTERFACE_ID);
    uint32_t audit = bundle_cap(&b1, "audit", AuditLog_INTERFACE_ID);
    uint32_t power = bundle_cap(&b1, "power", Power_INTERFACE_ID);
    CHECK(o == 0 && b1.n == 5 && launcher && info && chat && audit && power,
          "shellBundle(operator): launcher, info, chat, audit and power with their interface ids "
          "(%u caps)",
          b1.n);
    o = info_motd(info, text, sizeof(text));
    CHECK(o == 0 && strcmp(text, MOTD) == 0, "SystemInfo.motd through the bundle: \"%s\"", text);
    {
        MemoryUsage_r mu = {0};
        uint32_t listed;
        bool found;
        o = info_memory(info, &mu, &listed, &found);
        /* Roots, init, seven services and this test: at least 10. */
        CHECK(o == 0 && found && listed >= 10 && MemoryUsage_get_pageTables(mu) > 0 &&
                  MemoryUsage_get_kernelHeap(mu) > 0 && MemoryUsage_get_kernelStacks(mu) > 0 &&
                  MemoryUsage_get_quota(mu) == 64 * 256 &&
                  MemoryUsage_get_held(mu) <= MemoryUsage_get_quota(mu),
              "SystemInfo.memory lists %u accounts; this one: %lu of %lu frames, %lu page "
              "tables, %lu kernel heap, %lu kernel stacks",
              listed, found ? MemoryUsage_get_held(mu) : 0, found ? MemoryUsage_get_quota(mu) : 0,
              found ? MemoryUsage_get_pageTables(mu) : 0,
              found ? MemoryUsage_get_kernelHeap(mu) : 0,
              found ? MemoryUsage_get_kernelStacks(mu) : 0);
    }
    bool in_order;
    o = audit_check(audit, &in_order, 32);
    CHECK(o == 0 && in_order,
          "AuditLog.read through the bundle: setup, loginFailed, loginOk in order");
    struct capnpc_call ac;
    capnpc_call_init(&ac, params, sizeof(params), results, sizeof(results));
    o = outcome(AuditLog_append_call(&capos_transport, audit, &ac, AuditLog_Kind_launch, USER,
                                     (uint32_t)strlen(USER), "sessions-test", 13, 0),
                &ac);
    CHECK(o == 0, "AuditLog.append through the bundle (a launch record, as a shell writes)");
    o = audit_check(audit, &in_order, 33);
    CHECK(o == INVALID, "AuditLog.read of 33 records: invalidArgument");

    /* Chat through the bundle. */
    struct capnpc_call pc;
    Chat_post_Results_r pr;
    capnpc_call_init(&pc, params, sizeof(params), results, sizeof(results));
    o = outcome(
        Chat_post_call(&capos_transport, chat, &pc, "sessions-test", 13, "first post", 10, &pr),
        &pc);
    uint32_t first_seq = o == 0 ? Chat_post_Results_get_seq(pr) : 0;
    bool found;
    int o2 = chat_recent(chat, 16, "sessions-test: first post", &found);
    CHECK(o == 0 && first_seq == 1 && o2 == 0 && found,
          "Chat.post through the bundle is #%u; recent shows \"sessions-test: first post\"",
          first_seq);
    capnpc_call_init(&pc, params, sizeof(params), results, sizeof(results));
    o = outcome(
        Chat_post_call(&capos_transport, chat, &pc, "sessions-test", 13, "bad\x1b[2J", 7, 0), &pc);
    CHECK(o == INVALID, "Chat.post of control characters: invalidArgument");

    /* The launcher starts only hello and chat-client. */
    o = try_spawn(launcher, "credential-store");
    CHECK(o == DENIED, "launcher.spawn(\"credential-store\"): permissionDenied");
    o = try_spawn(launcher, "init");
    CHECK(o == DENIED, "launcher.spawn(\"init\"): permissionDenied");
    static char out[2048];
    int32_t code;
    o = run_program(launcher, "hello", 0, 0, 0, "", out, sizeof(out), &code);
    CHECK(o == 0 && code == 0 && strstr(out, "Hello from capOS! (pid "),
          "hello through the launcher wrote \"Hello from capOS! (pid N)\" to its StdIO and "
          "exited with code %d",
          code);
    o = run_program(launcher, "chat-client", "chat", Chat_INTERFACE_ID, chat, "hi from a child",
                    out, sizeof(out), &code);
    capos_printf("sessions-test: chat-client wrote:\n%s", out);
    CHECK(o == 0 && code == 0 && strstr(out, "sessions-test: first post") &&
              strstr(out, "message> ") && strstr(out, "posted #2"),
          "chat-client through the launcher: showed the board, prompted, posted #2, exit %d", code);
    {
        /* The child posted as "pid N". */
        Chat_recent_Results_r rr;
        capnpc_call_init(&pc, params, sizeof(params), results, sizeof(results));
        o = outcome(Chat_recent_call(&capos_transport, chat, &pc, 16, &rr), &pc);
        List_Text_r l = Chat_recent_Results_get_lines(rr);
        struct capn_text last =
            o == 0 && List_Text_len(l) == 2 ? List_Text_get(l, 1) : (struct capn_text){"", 0};
        CHECK(last.len > 4 && memcmp(last.str, "pid ", 4) == 0 &&
                  strstr(last.str, ": hi from a child"),
              "the board's newest line is \"%.*s\"", (int)last.len, last.str);
    }

    /* Metadata is not authority: forged sessions. */
    uint8_t forged[ID_LEN];
    for (int i = 0; i < ID_LEN; i++)
        forged[i] = (uint8_t)(s2.id[i] ^ 0x5a);
    struct bundle bf;
    o = get_bundle(UserSession_Profile_operator, forged, ID_LEN, USER, &bf);
    CHECK(o == DENIED && bf.n == 0,
          "shellBundle of a forged session (unknown id, profile operator): permissionDenied");
    o = get_bundle(UserSession_Profile_operator, s2.id, 8, USER, &bf);
    CHECK(o == DENIED, "shellBundle with an 8-byte id: permissionDenied");
    struct bundle b2;
    o = get_bundle(UserSession_Profile_anonymous, s2.id, ID_LEN, "root", &b2);
    CHECK(o == 0 && b2.n == 5 && bundle_cap(&b2, "info", SystemInfo_INTERFACE_ID),
          "shellBundle of the real id claiming anonymous/\"root\": the real (operator) bundle");
    /* One live bundle per session: the first one is revoked now. */
    o = info_motd(info, 0, 0);
    CHECK(o == DISCONNECTED, "the session's first bundle was revoked by the second: disconnected");
    drop_bundle(&b1);

    /* Guests are not offered here. */
    SessionManager_guest_Results_r gsr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    o = outcome(SessionManager_guest_call(&capos_transport, sessions, &c, "", 0, &gsr), &c);
    CHECK(o == DENIED, "guest(): permissionDenied (guestEnabled is false)");

    /* Logout makes it real: every capability of the bundle is revoked. */
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    o = outcome(AuthorityBroker_logout_call(&capos_transport, broker, &c, s2.id, ID_LEN, 0), &c);
    CHECK(o == 0, "logout(session)");
    launcher = bundle_cap(&b2, "launcher", ProcessSpawner_INTERFACE_ID);
    info = bundle_cap(&b2, "info", SystemInfo_INTERFACE_ID);
    chat = bundle_cap(&b2, "chat", Chat_INTERFACE_ID);
    audit = bundle_cap(&b2, "audit", AuditLog_INTERFACE_ID);
    power = bundle_cap(&b2, "power", Power_INTERFACE_ID);
    CHECK(try_spawn(launcher, "hello") == DISCONNECTED,
          "after logout: launcher.spawn disconnected");
    CHECK(info_motd(info, 0, 0) == DISCONNECTED, "after logout: info.motd disconnected");
    CHECK(chat_recent(chat, 1, 0, 0) == DISCONNECTED, "after logout: chat.recent disconnected");
    CHECK(audit_check(audit, &in_order, 1) == DISCONNECTED,
          "after logout: audit.read disconnected");
    /* If this one were not revoked, the machine would halt right here. */
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    o = outcome(Power_shutdown_call(&capos_transport, power, &c, 0), &c);
    CHECK(power && o == DISCONNECTED, "after logout: power.shutdown disconnected (no halt)");
    drop_bundle(&b2);
    o = get_bundle(UserSession_Profile_operator, s2.id, ID_LEN, USER, &bf);
    CHECK(o == DENIED, "shellBundle with the logged-out session: permissionDenied");
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    o = outcome(SessionManager_check_call(&capos_transport, sessions, &c, s2.id, ID_LEN, &cr), &c);
    CHECK(o == DENIED, "SessionManager.check of the logged-out session: permissionDenied");
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    o = outcome(AuthorityBroker_logout_call(&capos_transport, broker, &c, s2.id, ID_LEN, 0), &c);
    CHECK(o == 0, "a second logout of the same session: harmless");

    /* The setup session is still live and independent. Its bundle comes
     * with a ShellLink, as a shell's does; then the "shell" crashes: the
     * owner side of the link goes without a logout. The broker must end
     * the session and revoke the bundle by itself. */
    struct bundle b3;
    uint32_t link_owner = 0, link = 0;
    CHECK(test_create_endpoint(endpoints, ShellLink_INTERFACE_ID, &link_owner, &link),
          "a ShellLink endpoint");
    o = get_bundle_linked(s1.profile, s1.id, ID_LEN, s1.principal, link, &b3);
    capos_release(link);
    CHECK(o == 0 && b3.n == 5, "the setup session still gets its own bundle, linked");
    uint32_t info3 = bundle_cap(&b3, "info", SystemInfo_INTERFACE_ID);
    CHECK(info_motd(info3, 0, 0) == 0, "the linked bundle works");
    capos_release(link_owner);
    capos_flush_releases();
    int waited = 0; /* up to 10 s: a loaded host may stall the broker's CPU */
    for (; waited < 1000; waited++) {
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        o = outcome(SessionManager_check_call(&capos_transport, sessions, &c, s1.id, ID_LEN, &cr),
                    &c);
        if (o == DENIED)
            break;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        Timer_sleep_call(&capos_transport, timer, &c, 10000000, 0);
    }
    CHECK(o == DENIED, "a crashed shell's session ends by itself (after %d waits of 10 ms)",
          waited);
    CHECK(info_motd(info3, 0, 0) == DISCONNECTED, "and its bundle is revoked");
    drop_bundle(&b3);

    capos_printf("sessions-test: %d failures\n", failures);
    /* Done: end the resident services, so that the system can halt. */
    if (lifetime) {
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        Echo_echo_call(&capos_transport, lifetime, &c, "end", 3, 0);
    }
    return failures;
}
