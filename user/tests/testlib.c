/*
 * What the QEMU test programs share (testlib.h says what each function
 * does). Linked into every program of user/tests/ (USER_SHARED_tests,
 * mk/link.mk).
 */
#include "testlib.h"

#include <stdarg.h>

#include "text/fmt.h"

#include <threads.h>

int failures;

/* The calls' own buffers. */
static uint8_t test_params[2048] __attribute__((aligned(8)));
static uint8_t test_results[1024] __attribute__((aligned(8)));

bool test_create_endpoint(uint32_t factory, uint64_t iface, uint32_t *server, uint32_t *client)
{
    struct capnpc_call c;
    capnpc_call_init(&c, test_params, sizeof(test_params), test_results, sizeof(test_results));
    return capos_endpoint_create(factory, iface, &c, server, client) == CAPNPC_OK;
}

uint32_t test_spawn(uint32_t spawner, const char *binary, const struct capos_grant *g, uint32_t n,
                    int *rc)
{
    return test_spawn_quota(spawner, binary, g, n, 0, rc);
}

static char exception_text[128];

const char *test_exception_message(void)
{
    return exception_text;
}

int test_note_exception(struct capnpc_call *c, int st)
{
    exception_text[0] = 0;
    if (st == CAPNPC_EXCEPTION) {
        struct capn_text m = CapException_get_message(CapException_read_root(&c->msg));
        uint32_t len = m.len < sizeof(exception_text) - 1 ? m.len : sizeof(exception_text) - 1;
        memcpy(exception_text, m.str, len);
        exception_text[len] = 0;
    }
    return st;
}

/* The one spawn all the others are: with a quota, and one export (name
 * NULL: none) whose client facet goes to *client. */
static uint32_t spawn_with(uint32_t spawner, const char *binary, const struct capos_grant *g,
                           uint32_t n, uint32_t quota, const char *export_name, uint64_t iface,
                           uint32_t *client, int *rc)
{
    uint32_t caps[8], rcaps[2];
    struct capnpc_call c;
    capnpc_call_init(&c, test_params, sizeof(test_params), test_results, sizeof(test_results));
    capnpc_call_caps(&c, caps, 8, rcaps, 2);
    struct capos_spawn_request req = {.binary = binary,
                                      .grants = g,
                                      .ngrants = n,
                                      .quota = quota,
                                      .export_name = export_name,
                                      .export_iface = iface,
                                      .nexports = 1};
    capos_spawn_params(&c, &req);
    ProcessSpawner_spawn_Results_r r;
    int st = ProcessSpawner_spawn_send(&capos_transport, spawner, &c, &r);
    if (rc)
        *rc = st;
    test_note_exception(&c, st);
    if (st != CAPNPC_OK)
        return 0;
    return capos_spawn_result(&c, r, rcaps, export_name ? client : 0);
}

uint32_t test_spawn_quota(uint32_t spawner, const char *binary, const struct capos_grant *g,
                          uint32_t n, uint32_t quota, int *rc)
{
    return spawn_with(spawner, binary, g, n, quota, 0, 0, 0, rc);
}

uint32_t test_spawn_serving(uint32_t spawner, const char *binary, const struct capos_grant *g,
                            uint32_t n, const char *export_name, uint64_t iface, uint32_t *client)
{
    *client = 0;
    return spawn_with(spawner, binary, g, n, 0, export_name, iface, client, 0);
}

int32_t test_wait_exit(uint32_t handle)
{
    struct capnpc_call c;
    ProcessHandle_wait_Results_r r;
    capnpc_call_init(&c, test_params, sizeof(test_params), test_results, sizeof(test_results));
    if (ProcessHandle_wait_call(&capos_transport, handle, &c, &r) != CAPNPC_OK)
        return INT32_MIN;
    return ProcessHandle_wait_Results_get_exitCode(r);
}

const char *test_status_text(struct capnpc_call *c, int rc, char *buf, size_t n)
{
    if (rc != CAPNPC_EXCEPTION)
        return rc == CAPNPC_OK ? "no error" : "transport error";
    CapException_r e = CapException_read_root(&c->msg);
    struct capn_text m = CapException_get_message(e);
    fmt_snprintf(buf, n, "%s: %.*s", CapException_Type_NAMES[CapException_get_type(e)], (int)m.len,
                 m.str ? m.str : "");
    return buf;
}

void test_wait_go_ahead(void)
{
    uint32_t go = capos_capset_find(TEST_GO_AHEAD, Timer_INTERFACE_ID, 0);
    if (!go)
        return;
    struct capnpc_call c;
    Timer_now_Results_r r;
    capnpc_call_init(&c, test_params, sizeof(test_params), test_results, sizeof(test_results));
    Timer_now_call(&capos_transport, go, &c, &r);
}

static uint32_t go_ahead_left;

static int go_ahead_answer(void *self, Timer_now_Params_r params, Timer_now_Results_b results,
                           void *ctx)
{
    (void)self, (void)params;
    Timer_now_Results_set_ns(results, 0);
    if (--go_ahead_left == 0)
        ((struct capos_call_ctx *)ctx)->server->stop = true;
    return CAPNPC_OK;
}

bool test_give_go_ahead(uint32_t server, uint32_t n)
{
    static const struct Timer_ops ops = {.now = go_ahead_answer};
    if (n == 0)
        return true;
    go_ahead_left = n;
    struct capos_server srv = {.endpoint = server, .iface = &Timer_IFACE, .ops = &ops};
    return capos_serve(&srv) == 0 && go_ahead_left == 0;
}

bool test_usage(uint32_t frames, struct test_usage *u)
{
    struct capnpc_call c;
    FrameAllocator_usage_Results_r r;
    capnpc_call_init(&c, test_params, sizeof(test_params), test_results, sizeof(test_results));
    if (FrameAllocator_usage_call(&capos_transport, frames, &c, &r) != CAPNPC_OK)
        return false;
    MemoryUsage_r m = FrameAllocator_usage_Results_get_usage(r);
    *u = (struct test_usage){
        .quota = MemoryUsage_get_quota(m),
        .held = MemoryUsage_get_held(m),
        .pages = MemoryUsage_get_pages(m),
        .tables = MemoryUsage_get_pageTables(m),
        .heap = MemoryUsage_get_kernelHeap(m),
        .stacks = MemoryUsage_get_kernelStacks(m),
        .children = MemoryUsage_get_children(m),
    };
    return true;
}

bool test_map_same_va(uint32_t vm)
{
    uint8_t p[128], r[128];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    VirtualMemory_map_Results_r res;
    return VirtualMemory_map_call(&capos_transport, vm, &c, TEST_SAME_VA, 1, true, false, &res) ==
           CAPNPC_OK;
}

void test_check(bool ok, const char *fmt, ...)
{
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    capos_printf("%s%s\n", ok ? "ok: " : "FAILED: ", line);
    failures += !ok;
}

void test_waiter_note(struct test_waiter *w)
{
    volatile struct capos_ring *r = capos_ring();
    w->entry = r->sq_tail;
    __atomic_store_n(&w->ring, r, __ATOMIC_RELEASE);
}

bool test_waiter_wait(struct test_waiter *w)
{
    /* Naps of at least 1 ms each: at least the patience in all. */
    for (uint64_t napped = 0;; napped += 1000000) {
        volatile struct capos_ring *r = __atomic_load_n(&w->ring, __ATOMIC_ACQUIRE);
        if (r && (int32_t)(__atomic_load_n(&r->sq_head, __ATOMIC_ACQUIRE) - w->entry) > 0)
            return true;
        if (napped >= TEST_WAITER_PATIENCE_NS)
            return false;
        thrd_sleep(&(struct timespec){.tv_nsec = 1000000}, 0);
    }
}

struct op op_submit(struct capos_sqe sqe)
{
    struct op o = {.ud = capos_ring_next_id()};
    sqe.user_data = o.ud;
    capos_ring_submit(&sqe);
    return o;
}

/* Has it completed (without blocking)? The kernel consumes the SQ first. */
bool op_poll(struct op *o)
{
    if (!o->done) {
        capos_cap_enter(0, 0);
        o->done = capos_ring_try_take(o->ud, &o->cqe);
    }
    return o->done;
}

struct capos_cqe op_wait(struct op *o)
{
    if (!o->done)
        o->done = capos_ring_wait(o->ud, &o->cqe);
    return o->cqe;
}
