/*
 * remote-test: the console side of the remote-gateway QEMU test
 * (tests/qemu/remote.test). It does what a person at the console would:
 *
 * 1. creates the operator account (SessionManager.setup), which the remote
 *    client then logs in to;
 * 2. prints the bundles the broker gives a console session of each
 *    profile ("remote-test: console bundle (operator): launcher info ..."),
 *    which the host script compares with what `caps` shows remotely;
 * 3. reads the chat as a console chat client until the message the host
 *    posts remotely arrives, and prints it.
 *
 * The host script waits for step 2's lines before it starts, and ends the
 * machine through the remote operator's Power.
 *
 * Caps: "sessions" (SessionManager), "broker" (AuthorityBroker),
 * "timer", "console".
 */
#include "testlib.h"

#define USER     "ops"
#define PASSWORD "correct horse"
#define AWAITED  "hello from afar"

static uint32_t sessions, broker, timer;
static uint8_t params[2048] __attribute__((aligned(8)));
static uint8_t results[8192] __attribute__((aligned(8)));

static void sleep_ms(uint64_t ms)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_sleep_call(&capos_transport, timer, &c, ms * 1000000u, 0);
}

/* The broker's bundle for a session, as the shell asks for it; the names
 * go to `names` (space-separated). The chat capability, if any, is kept
 * in *chat; every other capability is released. */
/* A capability of the bundle to keep: its name, and where it goes. */
struct kept {
    const char *name;
    uint32_t *cap;
};

static bool bundle(UserSession_r s, char *names, size_t size, const struct kept *keep,
                   uint32_t nkeep)
{
    struct capnpc_call c;
    uint32_t rcaps[CAPOS_MAX_XFER];
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcaps, CAPOS_MAX_XFER);
    AuthorityBroker_shellBundle_Params_b p = AuthorityBroker_shellBundle_begin(&c);
    UserSession_b sb = AuthorityBroker_shellBundle_Params_init_session(p);
    struct capn_data id = UserSession_get_sessionId(s);
    struct capn_text who = UserSession_get_principal(s);
    UserSession_set_profile(sb, UserSession_get_profile(s));
    UserSession_set_sessionId(sb, id.ptr, id.len);
    UserSession_set_principal(sb, who.str ? who.str : "", who.len);
    AuthorityBroker_shellBundle_Results_r r;
    int rc = AuthorityBroker_shellBundle_send(&capos_transport, broker, &c, &r);
    if (rc != CAPNPC_OK)
        return false;
    List_ProcessSpawner_Grant_r list = AuthorityBroker_shellBundle_Results_get_caps(r);
    size_t at = 0;
    names[0] = 0;
    for (uint32_t i = 0; i < List_ProcessSpawner_Grant_len(list); i++) {
        ProcessSpawner_Grant_r g = List_ProcessSpawner_Grant_get(list, i);
        struct capn_text n = ProcessSpawner_Grant_get_name(g);
        uint32_t idx = ProcessSpawner_Grant_get_cap(g);
        if (at + n.len + 2 > size || idx >= c.reply.ncaps)
            return false;
        memcpy(names + at, n.str, n.len);
        at += n.len;
        names[at++] = ' ';
        names[at] = 0;
        for (uint32_t k = 0; k < nkeep; k++) {
            if (n.len == strlen(keep[k].name) && memcmp(n.str, keep[k].name, n.len) == 0) {
                *keep[k].cap = rcaps[idx];
                rcaps[idx] = 0;
            }
        }
    }
    if (at)
        names[at - 1] = 0;
    for (uint32_t i = 0; i < c.reply.ncaps; i++)
        capos_release(rcaps[i]);
    capos_flush_releases();
    return true;
}

/* Poll the chat until a line with AWAITED arrives (at most ~300 s). */
static bool await_chat(uint32_t chat)
{
    for (int tries = 0; tries < 1200; tries++) {
        struct capnpc_call c;
        Chat_recent_Results_r r;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        if (Chat_recent_call(&capos_transport, chat, &c, 16, &r) != CAPNPC_OK)
            return false;
        List_Text_r lines = Chat_recent_Results_get_lines(r);
        for (uint32_t i = 0; i < List_Text_len(lines); i++) {
            struct capn_text t = List_Text_get(lines, i);
            for (uint32_t j = 0; t.str && j + sizeof(AWAITED) - 1 <= t.len; j++)
                if (memcmp(t.str + j, AWAITED, sizeof(AWAITED) - 1) == 0) {
                    capos_printf("remote-test: the console's chat client read \"%.*s\"\n",
                                 (int)t.len, t.str);
                    return true;
                }
        }
        sleep_ms(250);
    }
    return false;
}

int main(void)
{
    sessions = capos_capset_find("sessions", SessionManager_INTERFACE_ID, 0);
    broker = capos_capset_find("broker", AuthorityBroker_INTERFACE_ID, 0);
    timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    if (!sessions || !broker || !timer) {
        capos_printf("remote-test: missing a capability (sessions, broker, timer)\n");
        return 1;
    }
    struct capnpc_call c;
    SessionManager_setup_Results_r sr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = SessionManager_setup_call(&capos_transport, sessions, &c, USER, sizeof(USER) - 1,
                                       PASSWORD, sizeof(PASSWORD) - 1, &sr);
    CHECK(rc == CAPNPC_OK, "setup: the operator account \"%s\" exists", USER);
    if (rc != CAPNPC_OK)
        return 1;
    char names[256];
    uint32_t chat = 0, info = 0;
    const struct kept keep[] = {{"chat", &chat}, {"info", &info}};
    bool got = bundle(SessionManager_setup_Results_get_session(sr), names, sizeof(names), keep, 2);
    CHECK(got && chat && info, "the broker issued the operator's bundle, chat and info included");
    capos_printf("remote-test: console bundle (operator): %s\n", names);

    SessionManager_guest_Results_r gr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = SessionManager_guest_call(&capos_transport, sessions, &c, "", 0, &gr);
    got = rc == CAPNPC_OK &&
          bundle(SessionManager_guest_Results_get_session(gr), names, sizeof(names), 0, 0);
    CHECK(got, "the broker issued a guest's bundle");
    if (got) {
        /* Ended again, so that it takes none of the session manager's room. */
        struct capn_data id =
            UserSession_get_sessionId(SessionManager_guest_Results_get_session(gr));
        uint8_t sid[16];
        memcpy(sid, id.ptr, id.len < 16 ? id.len : 16);
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        AuthorityBroker_logout_call(&capos_transport, broker, &c, sid, 16, 0);
    }
    /* The same call as the remote benchmark's, made locally through the
     * ring (tools/bench-remote.sh sets the two side by side): under
     * -icount the cycles are guest instructions. */
    enum { LOCAL_CALLS = 1000 };
    int bad = 0;
    uint64_t t0 = __builtin_ia32_rdtsc();
    for (int i = 0; i < LOCAL_CALLS; i++) {
        SystemInfo_uptime_Results_r ur;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        bad += SystemInfo_uptime_call(&capos_transport, info, &c, &ur) != CAPNPC_OK;
    }
    uint64_t per = (__builtin_ia32_rdtsc() - t0) / LOCAL_CALLS;
    CHECK(bad == 0, "%d local info.uptime calls answered", LOCAL_CALLS);
    capos_printf("remote-test: local info.uptime: %lu cycles per call\n", per);
    capos_printf("remote-test: console bundle (guest): %s\n", names);
    CHECK(await_chat(chat), "a chat message posted remotely reached the console's chat client");
    return failures;
}
