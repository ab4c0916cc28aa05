/*
 * FrameLedger: the accounts of the frame ledger, for system-info and
 * whoever else the manifest grants it. It reads the kernel's bookkeeping
 * and changes nothing.
 */
#include "objects/ledger.h"

#include <stddef.h>

#include "account.h"
#include "kcall.h"
#include "kobject.h"
#include "registry.h"
#include "string.h"

#define LEDGER_MAX_LISTED 64

/* A frame_account is the first member of its struct account. */
_Static_assert(offsetof(struct account, frames) == 0, "frames first in struct account");

static const struct account *account_of(const struct frame_account *f)
{
    return (const struct account *)f;
}

void memory_usage_set(MemoryUsage_b u, const struct frame_account *f)
{
    MemoryUsage_set_quota(u, f->quota);
    MemoryUsage_set_held(u, f->held);
    MemoryUsage_set_pages(u, f->by_kind[FL_PAGES]);
    MemoryUsage_set_pageTables(u, f->by_kind[FL_TABLES]);
    MemoryUsage_set_kernelHeap(u, f->by_kind[FL_HEAP]);
    MemoryUsage_set_kernelStacks(u, f->by_kind[FL_STACKS]);
    MemoryUsage_set_children(u, f->by_kind[FL_CHILDREN]);
}

static int ledger_accounts(void *self, FrameLedger_accounts_Params_r params,
                           FrameLedger_accounts_Results_b results, void *ctx)
{
    uint32_t n = account_ledger.accounts;
    uint32_t listed = n < LEDGER_MAX_LISTED ? n : LEDGER_MAX_LISTED;
    List_FrameLedger_Account_b list = FrameLedger_accounts_Results_init_accounts(results, listed);
    /* The ledger's list is newest first; show the oldest (the roots,
     * init) first, as a process listing would. */
    const struct frame_account *f = account_ledger.head;
    while (f && f->next)
        f = f->next;
    for (uint32_t i = 0; f && i < listed; f = f->prev, i++) {
        const struct account *a = account_of(f);
        FrameLedger_Account_b e = List_FrameLedger_Account_at(list, i);
        FrameLedger_Account_set_pid(e, a->pid);
        FrameLedger_Account_set_name(e, a->name, (uint32_t)strlen(a->name));
        FrameLedger_Account_set_running(e, !f->closed);
        FrameLedger_Account_set_parentPid(e, f->parent ? account_of(f->parent)->pid : 0);
        memory_usage_set(FrameLedger_Account_init_usage(e), f);
    }
    FrameLedger_accounts_Results_set_more(results, n - listed);
    return CAPNPC_OK;
}

static const struct FrameLedger_ops ledger_ops = {.accounts = ledger_accounts};

KOBJECT_TYPE(ledger_type, FrameLedger, ledger_ops);

KOBJECT_SINGLETON(ledger, ledger, FrameLedger, ledger_type);
