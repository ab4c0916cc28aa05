/*
 * libFuzzer target for the remote gateway's own bookkeeping
 * (user/services/remote-gateway/book.c): handles, sessions and each
 * connection's share, driven the way the gateway drives them, with a
 * model of what each connection's RPC engine holds.
 *
 * Input: a script, one opcode byte each followed by its argument byte
 * (c = connection, x = a choice among what exists):
 *
 *   0 c     connection c opens (if it is closed)
 *   1 c     Bootstrap: a RemoteLogin handle for the engine
 *   2 c     login/guest starts: a session and a ring call
 *   3 x     a login's answer: x picks the login and its outcome (refused;
 *           bundle of x%5 capabilities, then the RemoteSession or a
 *           failure that ends it)
 *   4 x     capSet on a RemoteSession the engine holds: every bundle
 *           handle, once more
 *   5 x     a call on a capability the engine holds: a ring call in
 *           flight that pins its session
 *   6 x     that call's answer: x%3 result capabilities as new handles
 *           (the connection may have ended meanwhile)
 *   7 x     the engine releases one reference it holds
 *   8 x     logout on a RemoteSession the engine holds
 *   9 c     connection c ends: its sessions end, the engine releases
 *           everything
 *   10 x    a release of a handle the engine does not hold (a bug the
 *           book must refuse without a change)
 *
 * After every step gw_book_check must pass, and every live handle's count
 * must equal the engine's references plus its session's: nothing held
 * that no one can release, nothing freed that someone holds. At the end
 * every connection ends and every call and login comes back: then no
 * handle, session or share may be left, every slot must have been
 * released exactly once and every session logged out at most once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#define MAX_HELD 1024 /* references one engine holds, at most (the share is less) */
#define MAX_FLY  64

struct engine {
    bool open;
    uint32_t gen;
    uint32_t n;
    uint32_t held[MAX_HELD]; /* one entry per reference */
};

/* A ring call in flight: a login (sess set, forward false) or a call. */
struct fly {
    bool forward;
    uint32_t conn, gen, sess;
    uint8_t id[16]; /* a call's session, as it was: its results must land there */
};

static struct engine eng[GW_CONNS];
static struct fly fly[MAX_FLY];
static uint32_t nfly;

static void hold(uint32_t c, uint32_t h)
{
    CHECK(h != GW_NO_HANDLE);
    CHECK(eng[c].n < MAX_HELD);
    eng[c].held[eng[c].n++] = h;
}

/* The engine gives back reference i of connection c. */
static void unhold(uint32_t c, uint32_t i)
{
    uint32_t h = eng[c].held[i];
    eng[c].held[i] = eng[c].held[--eng[c].n];
    CHECK(gw_ref_release(h));
}

static void conn_end(uint32_t c)
{
    if (!eng[c].open)
        return;
    gw_sessions_of_conn_end(c);
    while (eng[c].n)
        unhold(c, eng[c].n - 1);
    eng[c].open = false;
    eng[c].gen++;
    CHECK(gw_shares[c].refs == 0); /* every handle of it went with it */
}

static bool live(const struct fly *f)
{
    return eng[f->conn].open && eng[f->conn].gen == f->gen;
}

static void fly_done(uint32_t i)
{
    gw_op_uncharge(fly[i].conn);
    fly[i] = fly[--nfly];
}

/* A login's answer; x picks the outcome. */
static void login_done(uint32_t i, uint8_t x)
{
    struct fly f = fly[i];
    fly_done(i);
    if (x % 4 == 0) { /* refused at the session manager */
        gw_session_abandon(f.sess);
        CHECK(!gw_session_get(f.sess));
        return;
    }
    hooks_login(f.sess);
    if (!live(&f)) {
        gw_session_end(f.sess, "its login could not be completed");
        return;
    }
    for (uint32_t k = 0; k < x % 5u; k++) {
        uint32_t slot = hooks_slot();
        if (!gw_session_bundle_add(f.sess, "cap", 3, k, slot))
            gw_hook_release_slot(slot); /* not taken: the gateway releases it */
    }
    uint32_t sh = x % 4 == 1 ? GW_NO_HANDLE : gw_session_ready(f.sess);
    if (sh == GW_NO_HANDLE)
        gw_session_end(f.sess, "its login could not be completed");
    else
        hold(f.conn, sh);
}

static void call_done(uint32_t i, uint8_t x)
{
    struct fly f = fly[i];
    fly_done(i);
    uint32_t made[2], n = 0;
    bool ok = live(&f);
    /* Pinned: the session is still there, and still the same one. */
    const struct gw_session *ss = gw_session_get(f.sess);
    CHECK(ss && memcmp(ss->id, f.id, sizeof(f.id)) == 0);
    for (uint32_t k = 0; k < x % 3u; k++) {
        uint32_t slot = hooks_slot();
        uint32_t h = ok ? gw_ref_new(GW_REAL, f.conn, f.sess, slot) : GW_NO_HANDLE;
        if (h == GW_NO_HANDLE) {
            gw_hook_release_slot(slot);
            ok = false;
        } else {
            made[n++] = h;
        }
    }
    for (uint32_t k = 0; k < n; k++) {
        if (ok)
            hold(f.conn, made[k]); /* returned: the engine holds them */
        else
            CHECK(gw_ref_release(made[k]));
    }
    gw_session_unpin(f.sess);
}

/* The engine's reference of a given kind chosen by x, or -1. */
static int pick(uint32_t c, uint8_t x, int kind)
{
    for (uint32_t k = 0; k < eng[c].n; k++) {
        uint32_t i = (x + k) % eng[c].n;
        const struct gw_ref *r = gw_ref_get(eng[c].held[i]);
        CHECK(r);
        if (kind < 0 || r->kind == kind)
            return (int)i;
    }
    return -1;
}

/* Every live handle's references are the engines' plus its session's. */
static void check_counts(void)
{
    static uint32_t want[GW_REFS];
    memset(want, 0, sizeof(want));
    for (uint32_t c = 0; c < GW_CONNS; c++)
        for (uint32_t k = 0; k < eng[c].n; k++) {
            CHECK(gw_refs[eng[c].held[k]].conn == c);
            want[eng[c].held[k]]++;
        }
    for (uint32_t s = 0; s < GW_SESSIONS; s++)
        for (uint32_t k = 0; k < gw_sessions[s].nbundle; k++)
            want[gw_sessions[s].bundle[k]]++;
    for (uint32_t h = 0; h < GW_REFS; h++)
        CHECK(gw_refs[h].refs == want[h]);
    CHECK(gw_book_check() == NULL);
}

static void step(uint8_t op, uint8_t x)
{
    uint32_t c = x % GW_CONNS;
    int i;
    const char *why;
    switch (op % 11) {
    case 0:
        eng[c].open = true;
        break;
    case 1:
        if (eng[c].open) {
            uint32_t h = gw_ref_new(GW_LOGIN, c, 0, 0);
            if (h != GW_NO_HANDLE) {
                hold(c, h);
            } else {
                /* Refused only at the share, or with the table full. */
                uint32_t used = 0;
                for (uint32_t k = 1; k < GW_REFS; k++)
                    used += gw_refs[k].kind != GW_FREE;
                CHECK(gw_shares[c].refs == GW_CONN_REFS || used == GW_REFS - 1);
            }
        }
        break;
    case 2: {
        if (!eng[c].open || nfly == MAX_FLY)
            break;
        uint32_t sess = gw_session_new(c, &why);
        if (!sess)
            break;
        if (!gw_op_charge(c)) {
            gw_session_abandon(sess);
            break;
        }
        fly[nfly++] = (struct fly){false, c, eng[c].gen, sess, {0}};
        break;
    }
    case 3:
    case 6:
        for (uint32_t k = 0; k < nfly; k++) {
            uint32_t j = (x + k) % nfly;
            if (fly[j].forward == (op % 11 == 6)) {
                if (fly[j].forward)
                    call_done(j, x);
                else
                    login_done(j, x);
                break;
            }
        }
        break;
    case 4:
        if ((i = pick(c, x / 4, GW_SESSION)) >= 0) {
            struct gw_session *ss = gw_session_get(gw_refs[eng[c].held[i]].sess);
            CHECK(ss);
            if (ss->logged_out)
                break; /* capSet answers disconnected */
            for (uint32_t k = 0; k < ss->nbundle; k++) {
                CHECK(gw_ref_retain(ss->bundle[k]));
                hold(c, ss->bundle[k]);
            }
        }
        break;
    case 5:
        if (nfly < MAX_FLY && (i = pick(c, x / 4, GW_REAL)) >= 0) {
            uint32_t sess = gw_refs[eng[c].held[i]].sess;
            const struct gw_session *ss = gw_session_get(sess);
            if (!ss || ss->logged_out || !gw_op_charge(c))
                break; /* refused: disconnected, or overloaded */
            gw_session_pin(sess);
            fly[nfly] = (struct fly){true, c, eng[c].gen, sess, {0}};
            memcpy(fly[nfly++].id, ss->id, sizeof(ss->id));
        }
        break;
    case 7:
        if ((i = pick(c, x / 4, -1)) >= 0)
            unhold(c, (uint32_t)i);
        break;
    case 8:
        if ((i = pick(c, x / 4, GW_SESSION)) >= 0)
            gw_session_end(gw_refs[eng[c].held[i]].sess, "logout");
        break;
    case 9:
        conn_end(c);
        break;
    case 10: {
        uint32_t h = x * 2u + 1u;
        bool held = false;
        for (uint32_t d = 0; d < GW_CONNS; d++)
            for (uint32_t k = 0; k < eng[d].n; k++)
                held |= eng[d].held[k] == h;
        if (!held && !gw_ref_get(h))
            CHECK(!gw_ref_release(h));
        break;
    }
    }
    check_counts();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hooks_reset();
    memset(eng, 0, sizeof(eng));
    nfly = 0;
    for (size_t i = 0; i + 1 < size; i += 2)
        step(data[i], data[i + 1]);
    /* Everything ends: connections, then the calls and logins in flight. */
    for (uint32_t c = 0; c < GW_CONNS; c++)
        conn_end(c);
    while (nfly) {
        if (fly[0].forward)
            call_done(0, 0);
        else
            login_done(0, 1);
        check_counts();
    }
    CHECK(gw_book_check() == NULL);
    for (uint32_t h = 0; h < GW_REFS; h++)
        CHECK(gw_refs[h].kind == GW_FREE);
    for (uint32_t s = 0; s < GW_SESSIONS; s++)
        CHECK(!gw_sessions[s].used);
    for (uint32_t c = 0; c < GW_CONNS; c++)
        CHECK(gw_shares[c].refs == 0 && gw_shares[c].sessions == 0 && gw_shares[c].ops == 0);
    CHECK(hooks_live() == 0);
    CHECK(hk.double_release == 0 && hk.logout_twice == 0 && hk.logout_unknown == 0);
    return 0;
}
