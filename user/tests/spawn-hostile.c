/*
 * QEMU test program, booted as init of tests/qemu/systems/spawn.cue:
 * ProcessSpawner refusals (each typed, with no side effect), and
 * ProcessHandle semantics (wait, wait after exit, not transferable).
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "testlib.h"

static uint32_t spawner, console, timer;

static uint8_t params[8192] __attribute__((aligned(8)));
static uint8_t results[512] __attribute__((aligned(8)));
static struct capnpc_call c;
static char last_error[128];

/* Spawn; returns the handle cap, or 0 with last_error set. */
static uint32_t spawn(const char *name, const char *binary, const struct capos_grant *g, uint32_t n,
                      uint32_t nexports)
{
    uint32_t caps[64], rcaps[2];
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, 64, rcaps, 2);
    struct capos_spawn_request req = {.name = name,
                                      .binary = binary,
                                      .grants = g,
                                      .ngrants = n,
                                      .export_name = "svc",
                                      .export_iface = Console_INTERFACE_ID,
                                      .nexports = nexports};
    capos_spawn_params(&c, &req);
    ProcessSpawner_spawn_Results_r r;
    int rc = ProcessSpawner_spawn_send(&capos_transport, spawner, &c, &r);
    last_error[0] = 0;
    if (rc == CAPNPC_EXCEPTION) {
        struct capn_text m = CapException_get_message(CapException_read_root(&c.msg));
        uint32_t n2 = m.len < sizeof(last_error) - 1 ? m.len : sizeof(last_error) - 1;
        memcpy(last_error, m.str, n2);
        last_error[n2] = 0;
        return 0;
    }
    if (rc != CAPNPC_OK) {
        strcpy(last_error, "transport error");
        return 0;
    }
    return capos_spawn_result(&c, r, rcaps, 0);
}

static int32_t wait_for(uint32_t handle, int *rc_out)
{
    ProcessHandle_wait_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = ProcessHandle_wait_call(&capos_transport, handle, &c, &r);
    *rc_out = rc;
    return rc == CAPNPC_OK ? ProcessHandle_wait_Results_get_exitCode(r) : INT32_MIN;
}

int main(void)
{
    spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    struct capos_grant con = {"console", Console_INTERFACE_ID, console};

    CHECK(spawn("x", "no-such-binary", &con, 1, 0) == 0 &&
              strstr(last_error, "no program of that name"),
          "unknown binary refused: %s", last_error);
    struct capos_grant dup[2] = {con, con};
    CHECK(spawn("x", "exit-code", dup, 2, 0) == 0 && strstr(last_error, "same name"),
          "duplicate grant names refused: %s", last_error);
    struct capos_grant wrong = {"console", Timer_INTERFACE_ID, console};
    CHECK(spawn("x", "exit-code", &wrong, 1, 0) == 0 && strstr(last_error, "does not implement"),
          "grant with the wrong interface refused: %s", last_error);
    struct capos_grant bad_name = {"no spaces", Console_INTERFACE_ID, console};
    CHECK(spawn("x", "exit-code", &bad_name, 1, 0) == 0 && strstr(last_error, "grant name"),
          "bad grant name refused: %s", last_error);
    CHECK(spawn("a-name-that-is-much-too-long-for-a-process", "exit-code", &con, 1, 0) == 0 &&
              strstr(last_error, "name must be"),
          "over-long process name refused: %s", last_error);
    static struct capos_grant many[65];
    static char names[65][8];
    for (int i = 0; i < 65; i++) {
        names[i][0] = 'g';
        names[i][1] = (char)('0' + i / 10);
        names[i][2] = (char)('0' + i % 10);
        names[i][3] = 0;
        many[i] = (struct capos_grant){names[i], Console_INTERFACE_ID, console};
    }
    CHECK(spawn("x", "exit-code", many, 65, 0) == 0, "65 grants refused: %s", last_error);
    CHECK(spawn("x", "exit-code", &con, 1, 16) == 0 && strstr(last_error, "more than 16 exports"),
          "16 exports refused: %s", last_error);
    CHECK(spawn("x", "exit-code", &con, 1, 2) == 0 && strstr(last_error, "another export"),
          "two exports with one name refused: %s", last_error);
    struct capos_grant fake = {"console", Console_INTERFACE_ID, 0x10077};
    CHECK(spawn("x", "exit-code", &fake, 1, 0) == 0 && strcmp(last_error, "transport error") == 0,
          "a grant of a capability the caller does not hold refused (%s)", last_error);

    /* A real child: wait for it, then wait again (completes at once). */
    uint32_t h = spawn("child", "exit-code", &con, 1, 0);
    CHECK(h != 0, "spawned exit-code");
    int rc;
    int32_t code = wait_for(h, &rc);
    CHECK(rc == CAPNPC_OK && code == 3, "wait: exit code %d", code);
    code = wait_for(h, &rc);
    CHECK(rc == CAPNPC_OK && code == 3, "wait after exit completes at once: %d", code);

    /* A ProcessHandle cannot be passed on. */
    struct capos_grant pass = {"handle", ProcessHandle_INTERFACE_ID, h};
    CHECK(spawn("y", "exit-code", &pass, 1, 0) == 0 && strcmp(last_error, "transport error") == 0,
          "a ProcessHandle is not transferable");
    capos_release(h);
    capos_flush_releases();

    /* A child that does not fit its frame quota is refused, and every
     * frame its loading took is given back (the kernel's ledger line at
     * the end of the run shows it). */
    CHECK(spawn("big", "huge-bss", &con, 1, 0) == 0 &&
              strstr(last_error, "frame quota is too small to load it"),
          "a program larger than the frame quota refused: %s", last_error);

    /* kill: a child blocked in the kernel (a 60 s sleep) and one
     * spinning in user mode both end at once with killedExitCode; a
     * second kill, and a kill after the exit, do nothing. */
    struct capos_grant tim = {"timer-long", Timer_INTERFACE_ID, timer};
    uint32_t sleeping = spawn("sleeper", "sleeper", &tim, 1, 0);
    uint32_t spinning = spawn("spin", "spin-forever", &con, 1, 0);
    CHECK(sleeping && spinning, "a sleeper and a spinner started");
    /* Let both get going first: the sleeper into its sleep, the spinner
     * into its loop. */
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_sleep_call(&capos_transport, timer, &c, 100000000, 0);
    int krc[4];
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    krc[0] = ProcessHandle_kill_call(&capos_transport, sleeping, &c, 0);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    krc[1] = ProcessHandle_kill_call(&capos_transport, spinning, &c, 0);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    krc[2] = ProcessHandle_kill_call(&capos_transport, spinning, &c, 0);
    code = wait_for(sleeping, &rc);
    CHECK(krc[0] == CAPNPC_OK && rc == CAPNPC_OK && code == killedExitCode,
          "kill ends a child blocked in the kernel: exit code %d", code);
    code = wait_for(spinning, &rc);
    CHECK(krc[1] == CAPNPC_OK && krc[2] == CAPNPC_OK && rc == CAPNPC_OK && code == killedExitCode,
          "kill ends a child spinning in user mode (killed twice): exit code %d", code);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    krc[3] = ProcessHandle_kill_call(&capos_transport, spinning, &c, 0);
    CHECK(krc[3] == CAPNPC_OK, "kill after the exit does nothing");
    capos_release(sleeping);
    capos_release(spinning);
    capos_flush_releases();

    capos_printf("spawn-hostile: %d failures\n", failures);
    return failures;
}
