/*
 * QEMU test program (init of tests/qemu/systems/revoke-restrict.cue):
 *   f. revocable wrappers (Attenuator.wrapRevocable, Revoker.revoke): the
 *      wrapper, its copies and the wrappers made from it all end with a
 *      `disconnected` CapException; wrapping a revoked one is refused;
 *   g. restricted spawners (ProcessSpawner.restrictTo): only the listed
 *      binaries start, restricting again intersects, bad lists refused.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "testlib.h"

#define EDGE_IFACE 0xed6e0000c0ffee01ull /* as in user/tests/ipc-call-exit.c */

static uint8_t params[2048] __attribute__((aligned(8)));
static uint8_t results[1024] __attribute__((aligned(8)));
static uint32_t factory, attenuator, spawner, console;

/* 0 for a result, else the CapException type + 1, or a transport error. */
static int outcome(int rc, struct capnpc_call *c)
{
    if (rc == CAPNPC_EXCEPTION)
        return 1 + (int)CapException_get_type(CapException_read_root(&c->msg));
    return rc;
}

static const int DISCONNECTED = 1 + CapException_Type_disconnected;
static const int UNIMPLEMENTED = 1 + CapException_Type_unimplemented;
static const int PERMISSION_DENIED = 1 + CapException_Type_permissionDenied;
static const int INVALID_ARGUMENT = 1 + CapException_Type_invalidArgument;

static int32_t raw(struct capos_sqe sqe, struct capos_cqe *out)
{
    struct capos_cqe c;
    sqe.user_data = capos_ring_next_id();
    capos_ring_submit(&sqe);
    capos_ring_wait(sqe.user_data, &c);
    if (out)
        *out = c;
    return c.result;
}

static int32_t release(uint32_t cap)
{
    return raw((struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = cap}, 0);
}

/* ---- f. Revocable wrappers ---- */

/* wrap (revoker == 0) or wrapRevocable; the outcome, caps in *w, *revoker. */
static int wrap(uint32_t cap, const uint16_t *methods, uint32_t n, uint32_t *w, uint32_t *revoker)
{
    uint32_t caps[1], rcaps[2];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, 1, rcaps, 2);
    int rc;
    *w = 0;
    if (revoker) {
        *revoker = 0;
        Attenuator_wrapRevocable_Params_b p = Attenuator_wrapRevocable_begin(&c);
        Attenuator_wrapRevocable_Params_set_cap(p, capnpc_call_add_cap(&c, cap));
        List_UInt16_b l = Attenuator_wrapRevocable_Params_init_methods(p, n);
        for (uint32_t i = 0; i < n; i++)
            List_UInt16_set(l, i, methods[i]);
        Attenuator_wrapRevocable_Results_r r;
        rc = Attenuator_wrapRevocable_send(&capos_transport, attenuator, &c, &r);
        if (rc == CAPNPC_OK) {
            uint32_t wi = Attenuator_wrapRevocable_Results_get_wrapped(r);
            uint32_t ri = Attenuator_wrapRevocable_Results_get_revoker(r);
            *w = wi < c.reply.ncaps ? rcaps[wi] : 0;
            *revoker = ri < c.reply.ncaps ? rcaps[ri] : 0;
        }
    } else {
        Attenuator_wrap_Params_b p = Attenuator_wrap_begin(&c);
        Attenuator_wrap_Params_set_cap(p, capnpc_call_add_cap(&c, cap));
        List_UInt16_b l = Attenuator_wrap_Params_init_methods(p, n);
        for (uint32_t i = 0; i < n; i++)
            List_UInt16_set(l, i, methods[i]);
        Attenuator_wrap_Results_r r;
        rc = Attenuator_wrap_send(&capos_transport, attenuator, &c, &r);
        if (rc == CAPNPC_OK) {
            uint32_t wi = Attenuator_wrap_Results_get_wrapped(r);
            *w = wi < c.reply.ncaps ? rcaps[wi] : 0;
        }
    }
    return outcome(rc, &c);
}

static int revoke(uint32_t revoker)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    return outcome(Revoker_revoke_call(&capos_transport, revoker, &c, 0), &c);
}

static int write_line(uint32_t cap, const char *s)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    return outcome(Console_writeLine_call(&capos_transport, cap, &c, s, (uint32_t)strlen(s), 0),
                   &c);
}

static int write_raw(uint32_t cap)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    return outcome(Console_write_call(&capos_transport, cap, &c, "x", 1, 0), &c);
}

/* Another capability id (another table slot) for the same object: send it
 * to ourselves through an endpoint, copied. */
static uint32_t copy_through_ipc(uint32_t cap)
{
    uint32_t s, k;
    if (!test_create_endpoint(factory, EDGE_IFACE, &s, &k))
        return 0;
    static uint8_t cr[64], rb[256];
    struct capos_xfer x = {cap, CAPOS_XFER_COPY};
    struct capos_sqe call = {.opcode = CAPOS_OP_CALL,
                             .cap = k,
                             .interface_id = EDGE_IFACE,
                             .result_addr = (uint64_t)cr,
                             .result_len = sizeof(cr),
                             .user_data = capos_ring_next_id(),
                             .xfer_count = 1,
                             .xfer_addr = (uint64_t)&x};
    capos_ring_submit(&call);
    struct capos_cqe rc, cc;
    uint32_t copy = 0;
    if (raw((struct capos_sqe){.opcode = CAPOS_OP_RECV,
                               .cap = s,
                               .result_addr = (uint64_t)rb,
                               .result_len = sizeof(rb)},
            &rc) == 0 &&
        rc.cap_count == 1)
        copy = ((const struct capos_cap_record *)(rb + sizeof(struct capos_recv_header)))->cap;
    raw((struct capos_sqe){.opcode = CAPOS_OP_RETURN, .cap = s, .call_id = rc.call_id}, 0);
    capos_ring_wait(call.user_data, &cc);
    release(s);
    release(k);
    return copy;
}

static void test_revocable(void)
{
    static const uint16_t line_only[] = {Console_writeLine_METHOD};
    static const uint16_t both[] = {Console_write_METHOD, Console_writeLine_METHOD};
    uint32_t w, rev, w2, w3, rev3, wc, x, xr;
    CHECK(wrap(console, line_only, 1, &w, &rev) == 0 && w && rev,
          "wrapRevocable(console, [writeLine]): a wrapper and a Revoker");
    CHECK(write_line(w, "revoke-restrict: writeLine through a revocable wrapper") == 0,
          "writeLine through it works");
    CHECK(write_raw(w) == UNIMPLEMENTED, "write through it: unimplemented");
    CHECK(wrap(w, both, 2, &w2, 0) == 0 && write_line(w2, "revoke-restrict: through a wrapper of "
                                                          "the revocable wrapper") == 0,
          "a plain wrap of the revocable wrapper works");
    CHECK(write_raw(w2) == UNIMPLEMENTED, "and cannot widen it");
    wc = copy_through_ipc(w);
    CHECK(wc && wc != w && write_line(wc, "revoke-restrict: through a copy of it") == 0,
          "a copy of the revocable wrapper (another slot, through a call) works");
    CHECK(wrap(w, line_only, 1, &w3, &rev3) == 0 && w3 && rev3 &&
              write_line(w3, "revoke-restrict: through a revocable wrapper of it") == 0,
          "a revocable wrapper of the revocable wrapper works");

    CHECK(revoke(rev3) == 0, "revoke the inner-most Revoker");
    CHECK(write_line(w3, "revoke-restrict: should not print") == DISCONNECTED,
          "its wrapper now fails with disconnected");
    CHECK(write_line(w, "revoke-restrict: the outer wrapper still works") == 0,
          "the wrapper it was made from still works");

    uint32_t w5, rev5;
    CHECK(wrap(w, line_only, 1, &w5, &rev5) == 0 && w5 && rev5,
          "another revocable wrapper of it, not revoked itself");

    CHECK(revoke(rev) == 0, "revoke");
    CHECK(write_line(w5, "revoke-restrict: should not print") == DISCONNECTED,
          "a revocable wrapper made from it, itself not revoked, fails with disconnected");
    uint32_t w6;
    int r6 = wrap(w5, line_only, 1, &w6, 0);
    /* Not checked: make_wrapper only looks at the wrapper's own Revoker. */
    capos_printf("note: wrapping that one (its own Revoker unused): outcome %d\n", r6);
    if (w6) {
        CHECK(write_line(w6, "revoke-restrict: should not print") == DISCONNECTED,
              "but calls through a wrapper of it fail with disconnected");
        release(w6);
    }
    CHECK(write_line(w, "revoke-restrict: should not print") == DISCONNECTED,
          "the revoked wrapper fails with disconnected");
    CHECK(write_line(w2, "revoke-restrict: should not print") == DISCONNECTED,
          "the wrapper made from it fails with disconnected");
    CHECK(write_line(wc, "revoke-restrict: should not print") == DISCONNECTED,
          "its copy fails with disconnected");
    CHECK(write_line(w, "revoke-restrict: should not print") == DISCONNECTED, "and keeps failing");
    CHECK(wrap(w, line_only, 1, &x, 0) == DISCONNECTED && !x,
          "wrapping the revoked wrapper: disconnected");
    CHECK(wrap(wc, line_only, 1, &x, &xr) == DISCONNECTED && !x,
          "wrapping its copy revocably: disconnected");
    CHECK(wrap(w2, line_only, 1, &x, 0) == DISCONNECTED && !x,
          "wrapping the wrapper made from it: disconnected");
    CHECK(revoke(rev) == 0 && revoke(rev3) == 0, "revoking twice is harmless");
    CHECK(write_line(console, "revoke-restrict: the console itself is unchanged") == 0,
          "the original console is unchanged");

    /* A Revoker whose wrapper is gone still revokes (nothing). */
    uint32_t w4, rev4;
    CHECK(wrap(console, line_only, 1, &w4, &rev4) == 0 && release(w4) == 0 && revoke(rev4) == 0,
          "revoking after the wrapper was released is harmless");
    uint32_t all[] = {w, w2, w3, w5, wc, rev, rev3, rev4, rev5};
    int bad = 0;
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        bad += release(all[i]) != 0;
    CHECK(bad == 0, "released every wrapper and Revoker");
}

/* ---- g. Restricted spawners ---- */

static int restrict_to(uint32_t sp, const char *const *names, uint32_t n, uint32_t *out)
{
    uint32_t rcaps[1];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcaps, 1);
    ProcessSpawner_restrictTo_Params_b p = ProcessSpawner_restrictTo_begin(&c);
    List_Text_b l = ProcessSpawner_restrictTo_Params_init_binaries(p, n);
    for (uint32_t i = 0; i < n; i++)
        List_Text_set(l, i, names[i], (uint32_t)strlen(names[i]));
    ProcessSpawner_restrictTo_Results_r r;
    int rc = ProcessSpawner_restrictTo_send(&capos_transport, sp, &c, &r);
    *out = 0;
    if (rc == CAPNPC_OK) {
        uint32_t i = ProcessSpawner_restrictTo_Results_get_spawner(r);
        *out = i < c.reply.ncaps ? rcaps[i] : 0;
    }
    return outcome(rc, &c);
}

static uint32_t svc; /* a client facet for ipc-call-exit */

/* Spawn `binary` with console and svc; the outcome; the handle in *h. */
static int spawn(uint32_t sp, const char *binary, uint32_t *h)
{
    uint32_t caps[2], rcaps[2];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, 2, rcaps, 2);
    const struct capos_grant g[2] = {{"console", Console_INTERFACE_ID, console},
                                     {"svc", EDGE_IFACE, svc}};
    struct capos_spawn_request req = {.binary = binary, .grants = g, .ngrants = 2};
    capos_spawn_params(&c, &req);
    ProcessSpawner_spawn_Results_r r;
    int rc = ProcessSpawner_spawn_send(&capos_transport, sp, &c, &r);
    *h = rc == CAPNPC_OK ? capos_spawn_result(&c, r, rcaps, 0) : 0;
    return outcome(rc, &c);
}

/* Spawn and wait; the exit code, or INT32_MIN. */
static int32_t spawn_and_wait(uint32_t sp, const char *binary)
{
    uint32_t h;
    if (spawn(sp, binary, &h) != 0 || !h)
        return INT32_MIN;
    int32_t code = test_wait_exit(h);
    release(h);
    return code;
}

static void test_restricted(void)
{
    uint32_t s, h;
    CHECK(test_create_endpoint(factory, EDGE_IFACE, &s, &svc),
          "an endpoint whose client facet the children get");
    static const char *const call_exit[] = {"ipc-call-exit"};
    static const char *const flood[] = {"ipc-flood"};
    static const char *const both[] = {"ipc-flood", "ipc-call-exit"};
    uint32_t rs, rs2, rs3, none, x;
    CHECK(restrict_to(spawner, call_exit, 1, &rs) == 0 && rs, "restrictTo([ipc-call-exit])");
    CHECK(spawn(rs, "ipc-flood", &h) == PERMISSION_DENIED && !h,
          "it refuses to start ipc-flood: permissionDenied");
    CHECK(spawn(rs, "no-such-program", &h) == 1 + CapException_Type_notFound && !h,
          "a program the system lacks: notFound, not permissionDenied");
    CHECK(spawn_and_wait(rs, "ipc-call-exit") == 0, "it starts ipc-call-exit (exit code 0)");
    CHECK(restrict_to(rs, flood, 1, &rs2) == 0 && rs2,
          "restricting it again to [ipc-flood] gives a spawner");
    CHECK(spawn(rs2, "ipc-flood", &h) == PERMISSION_DENIED && !h &&
              spawn(rs2, "ipc-call-exit", &h) == PERMISSION_DENIED && !h,
          "which can start nothing (the intersection is empty)");
    CHECK(restrict_to(rs, both, 2, &rs3) == 0 && rs3 &&
              spawn(rs3, "ipc-flood", &h) == PERMISSION_DENIED &&
              spawn_and_wait(rs3, "ipc-call-exit") == 0,
          "restricting to [ipc-flood, ipc-call-exit] does not widen it");
    CHECK(restrict_to(spawner, 0, 0, &none) == 0 && none &&
              spawn(none, "ipc-call-exit", &h) == PERMISSION_DENIED,
          "restrictTo([]) gives a spawner that starts nothing");

    static const char *const many[17] = {"a0", "a1", "a2", "a3", "a4",           "a5",
                                         "a6", "a7", "a8", "a9", "b0",           "b1",
                                         "b2", "b3", "b4", "b5", "ipc-call-exit"};
    CHECK(restrict_to(spawner, many, 17, &x) == INVALID_ARGUMENT && !x,
          "17 names refused: invalidArgument");
    CHECK(restrict_to(spawner, many + 1, 16, &x) == 0 && x &&
              spawn_and_wait(x, "ipc-call-exit") == 0 && release(x) == 0,
          "16 names accepted, and the last one starts");
    static const char *const bad1[] = {"ipc-call-exit", "no/slash"};
    static const char *const bad2[] = {""};
    static const char *const bad3[] = {"a-name-of-thirty-three-bytes-xyz1"};
    CHECK(restrict_to(spawner, bad1, 2, &x) == INVALID_ARGUMENT &&
              restrict_to(spawner, bad2, 1, &x) == INVALID_ARGUMENT &&
              restrict_to(spawner, bad3, 1, &x) == INVALID_ARGUMENT,
          "a bad name (a '/', empty, 33 bytes) refused: invalidArgument");
    CHECK(spawn_and_wait(spawner, "ipc-call-exit") == 0, "the boot spawner is unchanged");
    int bad = 0;
    uint32_t all[] = {rs, rs2, rs3, none, svc, s};
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        bad += release(all[i]) != 0;
    CHECK(bad == 0, "released the spawners and the endpoint (dropping the children's calls)");
}

/* ---- h. A deep chain of revocable wrappers ----
 *
 * A revocable wrapper of a revocable wrapper wraps the old wrapper itself
 * (make_wrapper, "goto built"), so unlike plain wraps these chains grow,
 * one level per wrapRevocable, while the process keeps only the newest
 * wrapper (2 slots). Using and releasing the chain must not hurt the
 * kernel; refusing to build it that deep would be fine too. */
static void test_chain(void)
{
    static const uint16_t line_only[] = {Console_writeLine_METHOD};
    enum { LEVELS = 3000 };
    uint32_t w = console, rev, nw;
    int built = 0, rc = 0;
    for (; built < LEVELS; built++) {
        rc = wrap(w, line_only, 1, &nw, &rev);
        if (rc != 0)
            break;
        if (w != console)
            capos_release(w);
        capos_release(rev);
        w = nw;
    }
    capos_flush_releases();
    CHECK(built == LEVELS || rc > 0,
          "a chain of %d revocable wrappers of revocable wrappers (stopped by outcome %d)", built,
          rc);
    CHECK(write_line(w, "revoke-restrict: through the chain") == 0, "a call through the chain");
    capos_printf("revoke-restrict: releasing the chain (a kernel fault here is a bug)\n");
    CHECK(w == console || release(w) == 0, "released the chain: the kernel survived");
}

int main(void)
{
    factory = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    attenuator = capos_capset_find("attenuator", Attenuator_INTERFACE_ID, 0);
    spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    CHECK(factory && attenuator && spawner && console, "the CapSet has what the test needs");
    test_revocable();
    test_restricted();
    test_chain();
    capos_printf("revoke-restrict: %d failures\n", failures);
    return failures;
}
