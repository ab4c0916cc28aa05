/*
 * The `memory` command: every account of the kernel's frame ledger, as
 * SystemInfo.memory gives it to a session that holds `info` (operators):
 * each process's quota and what it holds, page tables and kernel heap
 * included (docs/memory.md). Information only.
 */
#include "shell.h"
#include "text/fmt.h"

static void row(FrameLedger_Account_r a)
{
    MemoryUsage_r u = FrameLedger_Account_get_usage(a);
    struct capn_text name = FrameLedger_Account_get_name(a);
    char n[33];
    uint32_t len = name.len < 32 ? name.len : 32;
    for (uint32_t i = 0; i < len; i++) {
        char c = name.str[i];
        n[i] = c >= 0x20 && c < 0x7f ? c : '?'; /* the kernel's text, printed safely */
    }
    n[len] = 0;
    char quota[24];
    uint64_t q = MemoryUsage_get_quota(u);
    fmt_snprintf(quota, sizeof(quota), q == UINT64_MAX ? "-" : "%lu", q); /* the kernel's root */
    term_printf("%5u %-16s %8s %8lu %7lu %7lu %6lu %6lu %8lu%s\r\n",
                FrameLedger_Account_get_pid(a), n, quota,
                MemoryUsage_get_held(u), MemoryUsage_get_pages(u), MemoryUsage_get_pageTables(u),
                MemoryUsage_get_kernelHeap(u), MemoryUsage_get_kernelStacks(u),
                MemoryUsage_get_children(u), FrameLedger_Account_get_running(a) ? "" : "  (exited)");
}

void cmd_memory(void)
{
    const struct shell_cap *info = caps_find("info", 4);
    if (!info || info->iface != SystemInfo_INTERFACE_ID) {
        term_puts("memory: this session holds no SystemInfo ('info'; operators have it)\r\n");
        return;
    }
    static uint8_t p[64] __attribute__((aligned(8))), r[16384] __attribute__((aligned(8)));
    struct capnpc_call c;
    SystemInfo_memory_Results_r res;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    int rc = SystemInfo_memory_call(&capos_transport, info->cap, &c, &res);
    if (rc != CAPNPC_OK) {
        term_printf("memory: %s\r\n", call_error(rc, &c));
        return;
    }
    term_puts("  PID NAME                QUOTA     HELD   PAGES  TABLES   HEAP STACKS CHILDREN\r\n");
    List_FrameLedger_Account_r l = SystemInfo_memory_Results_get_accounts(res);
    for (uint32_t i = 0; i < List_FrameLedger_Account_len(l); i++)
        row(List_FrameLedger_Account_get(l, i));
    uint32_t more = SystemInfo_memory_Results_get_more(res);
    if (more)
        term_printf("(%u more not listed)\r\n", more);
    term_puts("(4 KiB frames; the kernel and machine rows, pid 0, are the roots)\r\n");
}
