/*
 * The session: who the shell acts for (metadata) and what it holds
 * (capabilities). Logging in asks the session manager for a UserSession and
 * the authority broker for the bundle of that session's profile; logging
 * out has the broker revoke the bundle, so copies handed to children stop
 * working too.
 */
#include <string.h>

#include "capnp/capnpc_rt.h"
#include "shell.h"
#include "text/fmt.h"

#define PASSWORD_MAX 128

struct shell sh;

static uint8_t params[2048] __attribute__((aligned(8)));
static uint8_t results[4096] __attribute__((aligned(8)));

static void add_cap(const char *name, size_t len, uint64_t iface, uint32_t cap,
                    enum cap_origin origin)
{
    if (sh.ncaps == SHELL_MAX_CAPS || len >= SHELL_NAME) {
        capos_release(cap);
        return;
    }
    struct shell_cap *c = &sh.caps[sh.ncaps++];
    memcpy(c->name, name, len);
    c->name[len] = 0;
    c->iface = iface;
    c->cap = cap;
    c->origin = origin;
}

static uint32_t need(const char *name, uint64_t iface)
{
    uint32_t cap = capos_capset_need("capos-shell", name, iface);
    add_cap(name, strlen(name), iface, cap, CAP_SHELL);
    return cap;
}

void session_init(void)
{
    sh.terminal = need("terminal", TerminalSession_INTERFACE_ID);
    sh.sessions = need("sessions", SessionManager_INTERFACE_ID);
    sh.broker = need("broker", AuthorityBroker_INTERFACE_ID);
    sh.endpoints = need("endpoints", EndpointFactory_INTERFACE_ID);
    sh.profile = UserSession_Profile_anonymous;
}

const char *iface_name(uint64_t id)
{
    for (uint32_t i = 0; i < capos_INTERFACE_COUNT; i++)
        if (capos_INTERFACES[i]->id == id)
            return capos_INTERFACES[i]->name;
    return "(unknown interface)";
}

const struct shell_cap *caps_find(const char *name, size_t len)
{
    for (uint32_t i = 0; i < sh.ncaps; i++)
        if (strlen(sh.caps[i].name) == len && memcmp(sh.caps[i].name, name, len) == 0)
            return &sh.caps[i];
    return 0;
}

const char *call_error(int rc, struct capnpc_call *c)
{
    static char msg[160];
    if (rc == CAPNPC_EXCEPTION) {
        CapException_r ex = CapException_read_root(&c->msg);
        struct capn_text t = CapException_get_message(ex);
        size_t n = t.len < sizeof(msg) - 1 ? t.len : sizeof(msg) - 1;
        memcpy(msg, t.str, n);
        msg[n] = 0;
        /* Services name their method ("login: wrong user name ..."); the
         * shell names the command, which is the same word: one prefix. */
        static const char *const words[] = {"login: ", "setup: ", "guest: "};
        for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (strncmp(msg, words[i], strlen(words[i])) == 0)
                return msg + strlen(words[i]);
        return msg;
    }
    fmt_snprintf(msg, sizeof(msg), "the call failed (error %d)", rc);
    return msg;
}

static const char *profile_name(UserSession_Profile p)
{
    return p == UserSession_Profile_operator ? "operator"
           : p == UserSession_Profile_guest  ? "guest"
                                             : "anonymous";
}

void session_greet(void)
{
    struct capnpc_call c;
    SessionManager_greeting_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (SessionManager_greeting_call(&capos_transport, sh.sessions, &c, &r) == CAPNPC_OK) {
        struct capn_text t = SessionManager_greeting_Results_get_motd(r);
        term_write(t.str, t.len);
        term_puts("\r\n");
    }
    term_puts("capos-shell: you are anonymous. Type 'setup' to create the operator account, "
              "'login' to log in, 'help' for commands.\r\n");
}

/* Drop the bundle: after the broker revoked it, the handles are dead. */
/* A ShellLink for a new bundle: we keep the owner side in sh.link and
 * return the client facet for the broker, or 0 (then the session is not
 * linked, which the broker accepts, and the shell says so). */
const char *shell_endpoint(uint64_t iface, uint32_t *server, uint32_t *client)
{
    static uint8_t p[64] __attribute__((aligned(8))), r[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    int rc = capos_endpoint_create(sh.endpoints, iface, &c, server, client);
    return rc == CAPNPC_OK ? 0 : call_error(rc, &c);
}

static uint32_t make_link(void)
{
    uint32_t client;
    const char *why = shell_endpoint(ShellLink_INTERFACE_ID, &sh.link, &client);
    if (why) {
        sh.link = 0;
        term_printf("login: no link to the broker (%s): a crash of this shell would leave the "
                    "session live\r\n",
                    why);
        return 0;
    }
    return client;
}

static void drop_bundle(void)
{
    if (sh.link) {
        capos_release(sh.link);
        sh.link = 0;
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < sh.ncaps; i++) {
        if (sh.caps[i].origin == CAP_SESSION)
            capos_release(sh.caps[i].cap);
        else
            sh.caps[kept++] = sh.caps[i];
    }
    sh.ncaps = kept;
    capos_flush_releases();
}

/* Take the session from a reply and fetch its bundle. */
static void adopt_session(UserSession_r s)
{
    struct capn_data id = UserSession_get_sessionId(s);
    struct capn_text who = UserSession_get_principal(s);
    if (id.len != sizeof(sh.session_id) || who.len >= SHELL_NAME) {
        term_puts("login: the session manager's answer is malformed\r\n");
        return;
    }
    drop_bundle();
    sh.nprograms = 0;
    sh.profile = UserSession_get_profile(s);
    memcpy(sh.session_id, id.ptr, id.len);
    memcpy(sh.principal, who.str, who.len);
    sh.principal[who.len] = 0;

    /* The bundle: the broker checks the session itself, so what we claim
     * about it here decides nothing. */
    struct capnpc_call c;
    uint32_t rcaps[CAPOS_MAX_XFER], link_cap[1];
    uint32_t link = make_link();
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, link_cap, 1, rcaps, CAPOS_MAX_XFER);
    AuthorityBroker_shellBundle_Params_b p = AuthorityBroker_shellBundle_begin(&c);
    UserSession_b sb = AuthorityBroker_shellBundle_Params_init_session(p);
    UserSession_set_profile(sb, sh.profile);
    UserSession_set_sessionId(sb, sh.session_id, sizeof(sh.session_id));
    UserSession_set_principal(sb, sh.principal, (uint32_t)strlen(sh.principal));
    if (link)
        AuthorityBroker_shellBundle_Params_set_link(p, capnpc_call_add_cap(&c, link));
    AuthorityBroker_shellBundle_Results_r r;
    int rc = AuthorityBroker_shellBundle_send(&capos_transport, sh.broker, &c, &r);
    capos_release(link); /* the broker has its copy */
    if (rc != CAPNPC_OK) {
        term_printf("login: no capabilities for this session: %s\r\n", call_error(rc, &c));
        return;
    }
    List_Text_r progs = AuthorityBroker_shellBundle_Results_get_programs(r);
    size_t at = 0;
    for (uint32_t i = 0; i < List_Text_len(progs); i++) {
        struct capn_text t = List_Text_get(progs, i);
        if (t.len == 0 || at + t.len + 1 > sizeof(sh.programs))
            break;
        memcpy(sh.programs + at, t.str, t.len);
        sh.programs[at + t.len] = 0;
        at += t.len + 1;
        sh.nprograms++;
    }
    List_ProcessSpawner_Grant_r list = AuthorityBroker_shellBundle_Results_get_caps(r);
    bool taken[CAPOS_MAX_XFER] = {0};
    for (uint32_t i = 0; i < List_ProcessSpawner_Grant_len(list); i++) {
        ProcessSpawner_Grant_r g = List_ProcessSpawner_Grant_get(list, i);
        struct capn_text name = ProcessSpawner_Grant_get_name(g);
        uint32_t idx = ProcessSpawner_Grant_get_cap(g);
        if (idx >= c.reply.ncaps || taken[idx] || name.len == 0)
            continue;
        taken[idx] = true;
        add_cap(name.str, name.len, ProcessSpawner_Grant_get_interfaceId(g), rcaps[idx],
                CAP_SESSION);
    }
    /* Capabilities the list did not name: not ours to keep. */
    for (uint32_t i = 0; i < c.reply.ncaps; i++)
        if (!taken[i])
            capos_release(rcaps[i]);
    capos_flush_releases();
}

/* True, after saying why, if a credential line was not taken. The terminal
 * discards a line over the limit whole (tooLong), so nothing of it is
 * left to be typed into the next prompt, and the shell never sees it. */
static bool refused(const char *what, const char *field, int st, size_t n, unsigned max)
{
    if (st == TerminalSession_LineStatus_ok && n > 0)
        return false;
    if (st == TerminalSession_LineStatus_tooLong)
        term_printf("%s: a %s is at most %u bytes; that line was discarded, not kept: "
                    "cancelled\r\n",
                    what, field, max);
    else if (st == TerminalSession_LineStatus_endOfInput)
        term_printf("\r\n%s: end of input: cancelled\r\n", what); /* Ctrl-D echoes nothing */
    else if (st == TerminalSession_LineStatus_ok)
        term_printf("%s: no %s given: cancelled\r\n", what, field);
    else
        term_printf("%s: cancelled\r\n", what);
    return true;
}

/* Ask for a user name and a hidden password; false if cancelled. */
static bool ask_credentials(const char *what, char *user, char *password)
{
    size_t n;
    int st = term_read_line("username> ", false, user, SHELL_NAME, &n);
    if (refused(what, "user name", st, n, SHELL_NAME - 1))
        return false;
    st = term_read_line("password> ", true, password, PASSWORD_MAX + 1, &n);
    if (refused(what, "password", st, n, PASSWORD_MAX)) {
        memset(password, 0, PASSWORD_MAX + 1);
        return false;
    }
    return true;
}

/* End the session: its jobs first (they lose the terminal), then the
 * broker revokes the bundle, ends the session and records the logout.
 * `why` says who asked ("logout", or the command that switches). */
static void end_session(const char *why, bool quiet)
{
    jobs_end_all(why, quiet);
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = AuthorityBroker_logout_call(&capos_transport, sh.broker, &c, sh.session_id,
                                         sizeof(sh.session_id), 0);
    if (rc != CAPNPC_OK && !quiet)
        term_printf("%s: the broker did not log the session out: %s (dropping the "
                    "capabilities anyway)\r\n",
                    why, call_error(rc, &c));
    drop_bundle();
    sh.nprograms = 0;
    memset(sh.session_id, 0, sizeof(sh.session_id));
    memset(sh.principal, 0, sizeof(sh.principal));
    sh.profile = UserSession_Profile_anonymous;
}

/* login, setup and guest start a new session: the one before ends first,
 * so it cannot stay live behind the new one with its jobs and bundle. */
static void switch_from_session(const char *what)
{
    if (sh.profile == UserSession_Profile_anonymous)
        return;
    term_printf("%s: logging %s out first\r\n", what,
                sh.principal[0] ? sh.principal : profile_name(sh.profile));
    end_session(what, false);
}

void session_end_on_exit(void)
{
    if (sh.profile != UserSession_Profile_anonymous)
        end_session("capos-shell", true);
}

static void login_or_setup(bool setup)
{
    const char *what = setup ? "setup" : "login";
    char user[SHELL_NAME], password[PASSWORD_MAX + 1];
    switch_from_session(what);
    if (!ask_credentials(what, user, password))
        return;
    term_printf("%s: checking...\r\n", what);
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc;
    UserSession_r s;
    if (setup) {
        SessionManager_setup_Results_r r;
        rc = SessionManager_setup_call(&capos_transport, sh.sessions, &c, user,
                                       (uint32_t)strlen(user), password, (uint32_t)strlen(password),
                                       &r);
        s = SessionManager_setup_Results_get_session(r);
    } else {
        SessionManager_login_Results_r r;
        /* No origin: the console is where a login is unless it says otherwise. */
        rc = SessionManager_login_call(&capos_transport, sh.sessions, &c, user,
                                       (uint32_t)strlen(user), password, (uint32_t)strlen(password),
                                       "", 0, &r);
        s = SessionManager_login_Results_get_session(r);
    }
    memset(password, 0, sizeof(password));
    memset(params, 0, sizeof(params)); /* the password went out from here */
    if (rc != CAPNPC_OK) {
        term_printf("%s: %s\r\n", what, call_error(rc, &c));
        return;
    }
    adopt_session(s);
    term_printf("%s: logged in as %s (%s)\r\n", what, sh.principal, profile_name(sh.profile));
}

void cmd_login(void)
{
    login_or_setup(false);
}

void cmd_setup(void)
{
    login_or_setup(true);
}

void cmd_guest(void)
{
    switch_from_session("guest");
    struct capnpc_call c;
    SessionManager_guest_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = SessionManager_guest_call(&capos_transport, sh.sessions, &c, "", 0, &r);
    if (rc != CAPNPC_OK) {
        term_printf("guest: %s\r\n", call_error(rc, &c));
        return;
    }
    adopt_session(SessionManager_guest_Results_get_session(r));
    term_puts("guest: you are a guest now\r\n");
}

void cmd_logout(void)
{
    if (sh.profile == UserSession_Profile_anonymous) {
        term_puts("logout: not logged in\r\n");
        return;
    }
    end_session("logout", false);
    term_puts("logout: the session's capabilities are revoked; you are anonymous\r\n");
}

void cmd_whoami(void)
{
    if (sh.profile == UserSession_Profile_anonymous)
        term_puts("anonymous (not logged in)\r\n");
    else if (sh.principal[0])
        term_printf("%s (%s)\r\n", sh.principal, profile_name(sh.profile));
    else
        term_printf("%s\r\n", profile_name(sh.profile));
}

void cmd_caps(void)
{
    term_printf("%-12s %-18s %s\r\n", "NAME", "INTERFACE", "FROM");
    for (uint32_t i = 0; i < sh.ncaps; i++) {
        const struct shell_cap *c = &sh.caps[i];
        term_printf("%-12s %-18s %s\r\n", c->name, iface_name(c->iface),
                    c->origin == CAP_SHELL ? "shell" : profile_name(sh.profile));
    }
}

void cmd_programs(void)
{
    if (sh.nprograms == 0) {
        term_puts("programs: this session may start none: log in first ('login', 'setup' or "
                  "'guest')\r\n");
        return;
    }
    term_puts("This session may start:");
    const char *p = sh.programs;
    for (uint32_t i = 0; i < sh.nprograms; i++, p += strlen(p) + 1)
        term_printf(" %s", p);
    term_puts("\r\n");
}

void session_audit(AuditLog_Kind kind, const char *detail, size_t len)
{
    const struct shell_cap *a = caps_find("audit", 5);
    if (!a || a->iface != AuditLog_INTERFACE_ID)
        return;
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    AuditLog_append_call(&capos_transport, a->cap, &c, kind, sh.principal,
                         (uint32_t)strlen(sh.principal), detail, (uint32_t)len, 0);
}
