/*
 * system-info: what the boot manifest says about the system, for sessions
 * (docs/sessions.md). At start it reads the framed SystemManifest through
 * BootPackage into memory it maps for the purpose, takes
 * kernelParams.motd and kernelParams.guestEnabled with the bounded reader,
 * and unmaps the copy again. Anything wrong with the manifest fails
 * closed: no MOTD and no guests.
 *
 * Caps: "boot" (BootPackage), "timer" (uptime, cpuTime), "vm" (VirtualMemory, for
 * the copy), "ledger" (FrameLedger, memory per process), "console"
 * (optional, messages).
 * Export: "info" (SystemInfo).
 */
#include "svc.h"

#define MOTD_MAX      1024
#define MANIFEST_MAX  (16u << 20) /* bytes we are willing to copy */
#define MANIFEST_SEGS 16          /* the manifest format's limit */
#define COPY_ADDR     0x0000310000000000ull

static char motd[MOTD_MAX + 1];
static uint32_t motd_len;
static bool guest_enabled;
static uint32_t timer, ledger;

static uint8_t params[128] __attribute__((aligned(8)));
static uint8_t results[16384] __attribute__((aligned(8)));

static bool vm_call(uint32_t vm, bool map, uint64_t addr, uint32_t pages)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = map ? VirtualMemory_map_call(&capos_transport, vm, &c, addr, pages, true, false, 0)
                 : VirtualMemory_unmap_call(&capos_transport, vm, &c, addr, pages, 0);
    return rc == CAPNPC_OK;
}

/* Printable ASCII or UTF-8, newlines and tabs: what the kernel accepts. */
static bool motd_ok(struct capn_text t)
{
    if (t.len > MOTD_MAX)
        return false;
    for (uint32_t i = 0; i < t.len; i++) {
        uint8_t c = (uint8_t)t.str[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* Read and parse the manifest; false (and nothing set) on any problem. */
static bool load(uint32_t boot, uint32_t vm)
{
    struct capnpc_call c;
    BootPackage_manifestSize_Results_r sr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (BootPackage_manifestSize_call(&capos_transport, boot, &c, &sr) != CAPNPC_OK) {
        capos_printf("system-info: BootPackage.manifestSize failed\n");
        return false;
    }
    uint64_t size = BootPackage_manifestSize_Results_get_size(sr);
    if (size < 16 || size > MANIFEST_MAX) {
        capos_printf("system-info: the manifest is %lu bytes; expected 16..%u\n", size,
                     MANIFEST_MAX);
        return false;
    }
    uint32_t pages = (uint32_t)((size + 4095) / 4096);
    if (!vm_call(vm, true, COPY_ADDR, pages)) {
        capos_printf("system-info: no memory for a copy of the %lu-byte manifest\n", size);
        return false;
    }
    uint8_t *buf = (uint8_t *)COPY_ADDR;
    bool ok = true;
    for (uint64_t off = 0; ok && off < size;) {
        BootPackage_readManifest_Results_r rr;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        if (BootPackage_readManifest_call(&capos_transport, boot, &c, off, 16000, &rr) !=
            CAPNPC_OK) {
            ok = false;
            break;
        }
        struct capn_data d = BootPackage_readManifest_Results_get_data(rr);
        if (d.len == 0 || d.len > size - off) {
            ok = false;
            break;
        }
        memcpy(buf + off, d.ptr, d.len);
        off += d.len;
    }
    if (!ok) {
        capos_printf("system-info: reading the manifest through BootPackage failed\n");
    } else {
        struct capn_seg segs[MANIFEST_SEGS];
        struct capn_msg m;
        size_t used = 0;
        ok = capn_msg_read(&m, segs, MANIFEST_SEGS, buf, size, &used) == CAPN_OK && used == size;
        KernelParams_r kp = SystemManifest_get_kernelParams(SystemManifest_read_root(&m));
        struct capn_text t = ok ? KernelParams_get_motd(kp) : (struct capn_text){0};
        bool guests = ok && KernelParams_get_guestEnabled(kp);
        /* Any error seen while reading (a bad pointer reads as a default)
         * fails the whole thing. */
        if (ok && capn_ok(&m) && motd_ok(t)) {
            memcpy(motd, t.str ? t.str : "", t.len);
            motd[t.len] = 0;
            motd_len = t.len;
            guest_enabled = guests;
        } else {
            ok = false;
            capos_printf("system-info: the manifest is malformed (kernelParams unreadable)\n");
        }
    }
    svc_wipe(buf, size); /* not secret, but the frames go back clean */
    vm_call(vm, false, COPY_ADDR, pages);
    return ok;
}

static int get_motd(void *self, SystemInfo_motd_Params_r params_, SystemInfo_motd_Results_b res,
                    void *ctx)
{
    (void)self, (void)params_, (void)ctx;
    SystemInfo_motd_Results_set_text(res, motd, motd_len);
    return CAPNPC_OK;
}

static int get_guest(void *self, SystemInfo_guestEnabled_Params_r params_,
                     SystemInfo_guestEnabled_Results_b res, void *ctx)
{
    (void)self, (void)params_, (void)ctx;
    SystemInfo_guestEnabled_Results_set_on(res, guest_enabled);
    return CAPNPC_OK;
}

static int get_uptime(void *self, SystemInfo_uptime_Params_r params_,
                      SystemInfo_uptime_Results_b res, void *ctx)
{
    (void)self, (void)params_;
    uint8_t p[64] __attribute__((aligned(8))), r[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    Timer_now_Results_r now;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    if (Timer_now_call(&capos_transport, timer, &c, &now) != CAPNPC_OK)
        return svc_fail(ctx, CapException_Type_failed, "uptime: the timer did not answer");
    SystemInfo_uptime_Results_set_ns(res, Timer_now_Results_get_ns(now));
    return CAPNPC_OK;
}

static int get_cpu_time(void *self, SystemInfo_cpuTime_Params_r params_,
                        SystemInfo_cpuTime_Results_b res, void *ctx)
{
    (void)self, (void)params_;
    uint8_t p[64] __attribute__((aligned(8))), r[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    Timer_cpuTime_Results_r t;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    if (Timer_cpuTime_call(&capos_transport, timer, &c, &t) != CAPNPC_OK)
        return svc_fail(ctx, CapException_Type_failed, "cpuTime: the timer did not answer");
    SystemInfo_cpuTime_Results_set_cycles(res, Timer_cpuTime_Results_get_cycles(t));
    SystemInfo_cpuTime_Results_set_idleCycles(res, Timer_cpuTime_Results_get_idleCycles(t));
    SystemInfo_cpuTime_Results_set_cpus(res, Timer_cpuTime_Results_get_cpus(t));
    return CAPNPC_OK;
}

/* FrameLedger.accounts, copied field by field into our own results. */
static int get_memory(void *self, SystemInfo_memory_Params_r params_,
                      SystemInfo_memory_Results_b res, void *ctx)
{
    (void)self, (void)params_;
    static uint8_t p[64] __attribute__((aligned(8))), r[12288] __attribute__((aligned(8)));
    struct capnpc_call c;
    FrameLedger_accounts_Results_r lr;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    if (FrameLedger_accounts_call(&capos_transport, ledger, &c, &lr) != CAPNPC_OK)
        return svc_fail(ctx, CapException_Type_failed, "memory: the frame ledger did not answer");
    List_FrameLedger_Account_r in = FrameLedger_accounts_Results_get_accounts(lr);
    uint32_t n = List_FrameLedger_Account_len(in);
    List_FrameLedger_Account_b out = SystemInfo_memory_Results_init_accounts(res, n);
    for (uint32_t i = 0; i < n; i++) {
        FrameLedger_Account_r a = List_FrameLedger_Account_get(in, i);
        FrameLedger_Account_b b = List_FrameLedger_Account_at(out, i);
        struct capn_text name = FrameLedger_Account_get_name(a);
        FrameLedger_Account_set_pid(b, FrameLedger_Account_get_pid(a));
        FrameLedger_Account_set_name(b, name.str, name.len);
        FrameLedger_Account_set_running(b, FrameLedger_Account_get_running(a));
        FrameLedger_Account_set_parentPid(b, FrameLedger_Account_get_parentPid(a));
        MemoryUsage_r u = FrameLedger_Account_get_usage(a);
        MemoryUsage_b v = FrameLedger_Account_init_usage(b);
        MemoryUsage_set_quota(v, MemoryUsage_get_quota(u));
        MemoryUsage_set_held(v, MemoryUsage_get_held(u));
        MemoryUsage_set_pages(v, MemoryUsage_get_pages(u));
        MemoryUsage_set_pageTables(v, MemoryUsage_get_pageTables(u));
        MemoryUsage_set_kernelHeap(v, MemoryUsage_get_kernelHeap(u));
        MemoryUsage_set_kernelStacks(v, MemoryUsage_get_kernelStacks(u));
        MemoryUsage_set_children(v, MemoryUsage_get_children(u));
    }
    SystemInfo_memory_Results_set_more(res, FrameLedger_accounts_Results_get_more(lr));
    return CAPNPC_OK;
}

static const struct SystemInfo_ops ops = {.motd = get_motd,
                                          .guestEnabled = get_guest,
                                          .uptime = get_uptime,
                                          .memory = get_memory,
                                          .cpuTime = get_cpu_time};

int main(void)
{
    svc_name = "system-info";
    uint32_t boot = svc_need("boot", BootPackage_INTERFACE_ID);
    uint32_t vm = svc_need("vm", VirtualMemory_INTERFACE_ID);
    timer = svc_need("timer", Timer_INTERFACE_ID);
    ledger = svc_need("ledger", FrameLedger_INTERFACE_ID);
    struct capos_server srv = {
        .endpoint = svc_need("info", SystemInfo_INTERFACE_ID),
        .iface = &SystemInfo_IFACE,
        .ops = &ops,
    };
    if (load(boot, vm))
        capos_printf("system-info: MOTD of %u bytes, guests %s\n", motd_len,
                     guest_enabled ? "enabled" : "disabled");
    else
        capos_printf("system-info: serving no MOTD and no guests\n");
    /* Nothing more to read: BootPackage is not needed any longer. */
    capos_release(boot);
    capos_flush_releases();
    int rc = svc_serve(&srv);
    return rc < 0 ? 1 : 0;
}
