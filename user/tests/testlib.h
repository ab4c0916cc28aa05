/*
 * What the QEMU test programs share: the check line, and capability
 * plumbing (making an endpoint, spawning a child with grants, waiting for
 * it). Defined in testlib.c, which every program of user/tests/ links
 * (USER_SHARED_tests, mk/link.mk). Each call uses its own buffers, so the
 * programs' own stay untouched.
 */
#ifndef CAPOS_TESTS_TESTLIB_H
#define CAPOS_TESTS_TESTLIB_H

#include "capos_rt.h"

#include <string.h>

#include "capnp/capnpc_rt.h"
#include "capos.capnp.h"
#include "capos_spawn.h"

/* The checks that failed, which the program returns as its exit code. */
extern int failures;

/* The check line: "ok: ..." or "FAILED: ...", counted in `failures`.
 * One console write per line, so that lines of processes running at once
 * on other CPUs never interleave. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        bool ok_ = (cond); /* first: the message may show what it computed */                      \
        test_check(ok_, __VA_ARGS__);                                                              \
    } while (0)
__attribute__((format(printf, 2, 3))) void test_check(bool ok, const char *fmt, ...);

/* A new endpoint serving iface: both sides; false if create failed. */
bool test_create_endpoint(uint32_t factory, uint64_t iface, uint32_t *server, uint32_t *client);

/* Start `binary` with exactly these grants (at most 8): its ProcessHandle,
 * or 0 (then *rc, if given, is the stub's status). */
uint32_t test_spawn(uint32_t spawner, const char *binary, const struct capos_grant *g, uint32_t n,
                    int *rc);
/* The same with a frame quota for the child (0: the kernel's default). */
uint32_t test_spawn_quota(uint32_t spawner, const char *binary, const struct capos_grant *g,
                          uint32_t n, uint32_t quota, int *rc);
/* Start `binary` exporting one endpoint `export_name` of `iface`: its
 * ProcessHandle (0 on failure) and, in *client, the export's client facet. */
uint32_t test_spawn_serving(uint32_t spawner, const char *binary, const struct capos_grant *g,
                            uint32_t n, const char *export_name, uint64_t iface, uint32_t *client);
/* The message of the last stub call's CapException (test_spawn's, or
 * one noted with test_note_exception), or "". */
const char *test_exception_message(void);
/* Note call c's CapException message if st (the stub's status, returned)
 * says there is one. */
int test_note_exception(struct capnpc_call *c, int st);

/* Call c's status rc (a stub's return) in words, into buf: "no error",
 * "transport error", or the CapException's type and message. */
const char *test_status_text(struct capnpc_call *c, int rc, char *buf, size_t n);

/* The caller's own frame account (FrameAllocator.usage), in frames. */
struct test_usage {
    uint64_t quota, held, pages, tables, heap, stacks, children;
};
bool test_usage(uint32_t frames, struct test_usage *u);

/* A user address two test processes both map (VirtualMemory.map), so
 * that one can aim at the other's word at the same address: the park
 * isolation test (threads.c, thread-child.c). */
#define TEST_SAME_VA 0x0000300000000000ull
/* Map one writable page at TEST_SAME_VA through `vm`; false on failure. */
bool test_map_same_va(uint32_t vm);

/* A go-ahead for children whose parent must look at them before they end
 * (e.g. read the quota they reserve while they are surely alive). The
 * parent makes an endpoint of the Timer interface and grants its client as
 * "go"; each child calls test_wait_go_ahead() first, and the parent answers
 * them with test_give_go_ahead(server, n) once it has looked (false if the
 * endpoint failed before n calls). Without a "go" capability the wait
 * returns at once. */
/* Whether a thread has reached its wait, seen from another thread of
 * the process. On two CPUs a thread just made may not have parked yet
 * when its maker goes on, and yields or sleeps only make that rarer (a
 * loaded host stalls a virtual CPU for milliseconds). The waiter notes
 * its ring just before the call it waits in (test_waiter_note: that
 * call's entry is the next in its SQ); test_waiter_wait then waits until
 * the kernel has consumed that entry. The kernel consumes an entry and
 * parks its thread in one step under its lock, so the caller's next
 * system call finds the waiter parked. Only for a waiter that submits
 * nothing else meanwhile; false after TEST_WAITER_PATIENCE_NS, far longer
 * than a loaded host stalls a virtual CPU. */
struct test_waiter {
    volatile struct capos_ring *ring; /* set last: the note is complete */
    uint32_t entry;                   /* the SQ index of the wait's entry */
};
void test_waiter_note(struct test_waiter *w);
#define TEST_WAITER_PATIENCE_NS 10000000000ull /* 10 s */
bool test_waiter_wait(struct test_waiter *w);

#define TEST_GO_AHEAD "go"
void test_wait_go_ahead(void);
bool test_give_go_ahead(uint32_t server, uint32_t n);

/* The exit code of a child, or INT32_MIN if the wait failed. */
int32_t test_wait_exit(uint32_t handle);

/* A raw ring operation in flight, for tests that hold several at once
 * (struct op: its user_data, whether its CQE was taken, the CQE). */
struct op {
    uint64_t ud;
    bool done;
    struct capos_cqe cqe;
};
/* Submit sqe under a fresh user_data. */
struct op op_submit(struct capos_sqe sqe);
/* Has it completed (without blocking)? The kernel consumes the SQ first. */
bool op_poll(struct op *o);
/* Its CQE, waited for. */
struct capos_cqe op_wait(struct op *o);

#endif
