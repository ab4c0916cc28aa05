/* Fake capabilities of the gateway harness (services.h). */
#define _POSIX_C_SOURCE 200809L
#include "services.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capos.capnp.h"
#include "remote.capnp.h"
#include "rpc/rpc.h"

enum kind { FREE = 0, LOGIN, SESSION, INFO, CHAT };

static const char *const KIND_NAMES[] = {"free", "RemoteLogin", "RemoteSession", "SystemInfo",
                                         "Chat"};

#define OBJS 512

struct obj {
    enum kind kind;
    int refs;         /* references the engine holds */
    int deps;         /* capabilities that depend on this session */
    int conn;         /* the connection it was issued to */
    uint32_t session; /* for INFO and CHAT: the session they belong to */
    bool logged_out;  /* SESSION: every capability of it is revoked */
    UserSession_Profile profile;
    char principal[32];
};

static struct obj objs[OBJS];
static char peers[64][32];
static const char *the_password;
static uint32_t failures, base_delay;
static struct timespec started;

static char board[16][128];
static uint32_t board_seq;

/* The call being served. */
struct ctx {
    int conn;
    uint32_t self;
    struct svc_reply *r;
};

static int fail(struct ctx *x, int type, const char *reason)
{
    x->r->exc_type = type;
    snprintf(x->r->reason, sizeof(x->r->reason), "%s", reason);
    return CAPNPC_EXCEPTION;
}

static uint32_t obj_new(enum kind k, int conn, uint32_t session)
{
    for (uint32_t i = 1; i < OBJS; i++) {
        if (objs[i].kind == FREE) {
            memset(&objs[i], 0, sizeof(objs[i]));
            objs[i].kind = k;
            objs[i].conn = conn;
            objs[i].session = session;
            objs[i].refs = 1;
            if (session != 0)
                objs[session].deps++;
            return i;
        }
    }
    return RPC_NO_CAP;
}

static void obj_maybe_free(uint32_t h)
{
    struct obj *o = &objs[h];
    if (o->refs > 0 || o->deps > 0)
        return;
    uint32_t s = o->session;
    o->kind = FREE;
    if (s != 0) {
        objs[s].deps--;
        obj_maybe_free(s);
    }
}

static void audit(int conn, const char *kind, const char *who)
{
    printf("audit: %s %s remote %s\n", kind, who[0] ? who : "(guest)", peers[conn & 63]);
    fflush(stdout);
}

static void logout(uint32_t s, const char *why)
{
    if (objs[s].logged_out)
        return;
    objs[s].logged_out = true;
    printf("session %u logged out (%s)\n", s, why);
    audit(objs[s].conn, "logout", objs[s].principal);
}

/* ---- RemoteLogin ---- */

static int new_session(struct ctx *x, UserSession_Profile p, const char *user,
                       RemoteLogin_login_Results_b *lr, RemoteLogin_guest_Results_b *gr)
{
    uint32_t s = obj_new(SESSION, x->conn, 0);
    if (s == RPC_NO_CAP)
        return fail(x, RPC_EXC_OVERLOADED, "too many sessions");
    objs[s].profile = p;
    snprintf(objs[s].principal, sizeof(objs[s].principal), "%s", user);
    x->r->caps[x->r->ncaps++] = s;
    if (lr != NULL)
        RemoteLogin_login_Results_set_session(*lr, 0);
    else
        RemoteLogin_guest_Results_set_session(*gr, 0);
    return CAPNPC_OK;
}

static int do_login(void *self, RemoteLogin_login_Params_r p, RemoteLogin_login_Results_b r,
                    void *vx)
{
    struct ctx *x = vx;
    struct capn_text user = RemoteLogin_login_Params_get_user(p);
    struct capn_text pw = RemoteLogin_login_Params_get_password(p);
    x->r->delay_ms = base_delay;
    if (strcmp(user.str, "alice") != 0 || strcmp(pw.str, the_password) != 0) {
        /* Each consecutive failure waits longer, as at the console. */
        failures++;
        x->r->delay_ms = base_delay + 100 * (failures < 10 ? failures : 10);
        audit(x->conn, "loginFailed", user.str);
        return fail(x, RPC_EXC_FAILED, "permission denied: wrong user or password");
    }
    failures = 0;
    audit(x->conn, "loginOk", user.str);
    return new_session(x, UserSession_Profile_operator, user.str, &r, NULL);
}

static int do_guest(void *self, RemoteLogin_guest_Params_r p, RemoteLogin_guest_Results_b r,
                    void *vx)
{
    audit(((struct ctx *)vx)->conn, "guest", "");
    return new_session(vx, UserSession_Profile_guest, "", NULL, &r);
}

static const struct RemoteLogin_ops LOGIN_OPS = {do_login, do_guest};

/* ---- RemoteSession ---- */

static int do_capset(void *self, RemoteSession_capSet_Params_r p, RemoteSession_capSet_Results_b r,
                     void *vx)
{
    struct ctx *x = vx;
    bool op = objs[x->self].profile == UserSession_Profile_operator;
    static const struct {
        const char *name;
        enum kind kind;
        uint64_t iface;
    } bundle[] = {{"info", INFO, SystemInfo_INTERFACE_ID}, {"chat", CHAT, Chat_INTERFACE_ID}};
    uint32_t n = op ? 2 : 1;
    List_NamedCap_b l = RemoteSession_capSet_Results_init_caps(r, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h = obj_new(bundle[i].kind, x->conn, x->self);
        if (h == RPC_NO_CAP)
            return fail(x, RPC_EXC_OVERLOADED, "too many capabilities");
        NamedCap_b nc = List_NamedCap_at(l, i);
        NamedCap_set_name(nc, bundle[i].name, (uint32_t)strlen(bundle[i].name));
        NamedCap_set_interfaceId(nc, bundle[i].iface);
        NamedCap_set_cap(nc, x->r->ncaps);
        x->r->caps[x->r->ncaps++] = h;
    }
    return CAPNPC_OK;
}

static int do_whoami(void *self, RemoteSession_whoami_Params_r p, RemoteSession_whoami_Results_b r,
                     void *vx)
{
    struct obj *s = &objs[((struct ctx *)vx)->self];
    RemoteSession_whoami_Results_set_profile(r, s->profile);
    RemoteSession_whoami_Results_set_principal(r, s->principal, (uint32_t)strlen(s->principal));
    return CAPNPC_OK;
}

static int do_logout(void *self, RemoteSession_logout_Params_r p, RemoteSession_logout_Results_b r,
                     void *vx)
{
    logout(((struct ctx *)vx)->self, "logout");
    return CAPNPC_OK;
}

static const struct RemoteSession_ops SESSION_OPS = {do_capset, do_whoami, do_logout};

/* ---- The bundle ---- */

static int do_motd(void *self, SystemInfo_motd_Params_r p, SystemInfo_motd_Results_b r, void *x)
{
    static const char motd[] = "Welcome to capOS (remote gateway harness)";
    SystemInfo_motd_Results_set_text(r, motd, sizeof(motd) - 1);
    return CAPNPC_OK;
}

static int do_guest_enabled(void *self, SystemInfo_guestEnabled_Params_r p,
                            SystemInfo_guestEnabled_Results_b r, void *x)
{
    SystemInfo_guestEnabled_Results_set_on(r, true);
    return CAPNPC_OK;
}

static int do_uptime(void *self, SystemInfo_uptime_Params_r p, SystemInfo_uptime_Results_b r,
                     void *x)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t ns = (uint64_t)(now.tv_sec - started.tv_sec) * 1000000000u +
                  (uint64_t)(now.tv_nsec - started.tv_nsec);
    SystemInfo_uptime_Results_set_ns(r, ns);
    return CAPNPC_OK;
}

/* memory and cpuTime are the guest's figures: unimplemented here (the
 * generated dispatch answers a NULL method as unimplemented). */
static const struct SystemInfo_ops INFO_OPS = {.motd = do_motd,
                                               .guestEnabled = do_guest_enabled,
                                               .uptime = do_uptime,
                                               .memory = NULL,
                                               .cpuTime = NULL};

static int do_post(void *self, Chat_post_Params_r p, Chat_post_Results_b r, void *vx)
{
    struct ctx *x = vx;
    struct capn_text from = Chat_post_Params_get_from(p);
    struct capn_text text = Chat_post_Params_get_text(p);
    /* Who posted is the session's principal, whatever `from` claims. */
    const char *who = objs[objs[x->self].session].principal;
    snprintf(board[board_seq % 16], sizeof(board[0]), "%s: %s", who[0] ? who : from.str, text.str);
    Chat_post_Results_set_seq(r, board_seq++);
    return CAPNPC_OK;
}

static int do_recent(void *self, Chat_recent_Params_r p, Chat_recent_Results_b r, void *vx)
{
    uint32_t max = Chat_recent_Params_get_max(p), n = board_seq < 16 ? board_seq : 16;
    if (max < n)
        n = max;
    List_Text_b l = Chat_recent_Results_init_lines(r, n);
    for (uint32_t i = 0; i < n; i++) {
        const char *line = board[(board_seq - n + i) % 16];
        List_Text_set(l, i, line, (uint32_t)strlen(line));
    }
    return CAPNPC_OK;
}

static const struct Chat_ops CHAT_OPS = {do_post, do_recent};

/* ---- Entry points ---- */

void svc_init(const char *password, uint32_t login_delay_ms)
{
    the_password = password;
    base_delay = login_delay_ms;
    clock_gettime(CLOCK_MONOTONIC, &started);
}

void svc_conn_open(int conn, const char *peer)
{
    snprintf(peers[conn & 63], sizeof(peers[0]), "%s", peer);
}

void svc_conn_closed(int conn)
{
    for (uint32_t i = 1; i < OBJS; i++)
        if (objs[i].kind == SESSION && objs[i].conn == conn)
            logout(i, "connection closed");
}

uint32_t svc_bootstrap(int conn)
{
    return obj_new(LOGIN, conn, 0);
}

void svc_release(uint32_t h)
{
    if (h >= OBJS || objs[h].kind == FREE || objs[h].refs <= 0) {
        printf("error: release of handle %u, which the engine did not hold\n", h);
        return;
    }
    objs[h].refs--;
    /* Dropping the session (not just its bundle) logs out. */
    if (objs[h].kind == SESSION && objs[h].refs == 0)
        logout(h, "released");
    obj_maybe_free(h);
}

uint32_t svc_live(void)
{
    uint32_t n = 0;
    for (uint32_t i = 1; i < OBJS; i++)
        n += objs[i].kind != FREE;
    return n;
}

static uint64_t iface_of(enum kind k)
{
    switch (k) {
    case LOGIN:
        return RemoteLogin_INTERFACE_ID;
    case SESSION:
        return RemoteSession_INTERFACE_ID;
    case INFO:
        return SystemInfo_INTERFACE_ID;
    case CHAT:
        return Chat_INTERFACE_ID;
    default:
        return 0;
    }
}

enum svc_outcome svc_call(int conn, uint32_t h, uint64_t iface, uint16_t method,
                          struct capn_msg *params, struct capn_bld *results, struct svc_reply *r)
{
    struct ctx x = {conn, h, r};
    memset(r, 0, sizeof(*r));
    if (h >= OBJS || objs[h].kind == FREE || objs[h].conn != conn)
        return fail(&x, RPC_EXC_FAILED, "no such capability"), SVC_EXCEPTION;
    struct obj *o = &objs[h];
    uint32_t s = o->kind == SESSION ? h : o->session;
    if (s != 0 && objs[s].logged_out)
        return fail(&x, RPC_EXC_DISCONNECTED, "disconnected: the session was logged out"),
               SVC_EXCEPTION;
    if (iface != iface_of(o->kind)) {
        char why[160];
        snprintf(why, sizeof(why), "interface %#llx is not implemented by this capability (a %s)",
                 (unsigned long long)iface, KIND_NAMES[o->kind]);
        return fail(&x, RPC_EXC_UNIMPL, why), SVC_EXCEPTION;
    }
    int rc;
    switch (o->kind) {
    case LOGIN:
        rc = RemoteLogin_dispatch(&LOGIN_OPS, o, method, params, results, &x);
        break;
    case SESSION:
        rc = RemoteSession_dispatch(&SESSION_OPS, o, method, params, results, &x);
        break;
    case INFO:
        rc = SystemInfo_dispatch(&INFO_OPS, o, method, params, results, &x);
        break;
    default:
        rc = Chat_dispatch(&CHAT_OPS, o, method, params, results, &x);
        break;
    }
    if (rc == CAPNPC_OK)
        return SVC_RESULTS;
    if (rc == CAPNPC_E_BAD_METHOD) {
        char why[160];
        snprintf(why, sizeof(why), "method %u of %s is not implemented", method,
                 KIND_NAMES[o->kind]);
        fail(&x, RPC_EXC_UNIMPL, why);
    } else if (rc != CAPNPC_EXCEPTION) {
        fail(&x, RPC_EXC_FAILED,
             rc == CAPNPC_E_BAD_PARAMS ? "malformed params" : "results too big");
    }
    /* References handed out before the failure go back. */
    for (uint32_t i = 0; i < r->ncaps; i++)
        svc_release(r->caps[i]);
    r->ncaps = 0;
    return SVC_EXCEPTION;
}
