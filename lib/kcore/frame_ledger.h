/*
 * Frame ledger: who holds how many physical frames, as a tree of quotas.
 * Pure, freestanding bookkeeping with no allocation.
 *
 * Every account has a quota: the frames it is guaranteed. A child account
 * is carved out of its parent: opening it charges its whole quota to the
 * parent (kind FL_CHILDREN), so the quotas of a parent's children plus what
 * the parent uses itself never exceed the parent's quota, and the sum of
 * all guarantees never exceeds the root's. A charge checks only the
 * account's own quota: the frames were set aside when it was opened.
 *
 * Closing an account (its process exited) gives its unused quota back to
 * the parent at once. What it still holds (a MemoryObject or an endpoint
 * another process still uses) stays charged to it, and so to its parent,
 * until released: a closed account lingers while it holds frames or has
 * children, and is "done" (can be removed) when it has neither. Releasing
 * from a closed account shrinks its quota with it and gives the frames
 * back to the nearest open ancestor.
 *
 * Every failing call changes nothing. Not thread-safe: the kernel
 * serialises every call.
 */
#ifndef CAPOS_LIB_FRAME_LEDGER_H
#define CAPOS_LIB_FRAME_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fl_status {
    FL_OK = 0,
    FL_ERR_QUOTA,        /* the charge would take the account past its quota */
    FL_ERR_UNDERFLOW,    /* releasing more frames of a kind than are held */
    FL_ERR_OVERFLOW,     /* a count would overflow */
    FL_ERR_NOT_DONE,     /* removing an account that is open, holds frames or has children */
    FL_ERR_NOT_OPEN,     /* the account is not on this ledger */
    FL_ERR_ALREADY_OPEN, /* opening an account twice */
    FL_ERR_CLOSED,       /* charging, or opening a child under, a closed account */
    FL_ERR_BAD_KIND,     /* a kind out of range, or FL_CHILDREN charged directly */
    FL_ERR_CORRUPT,      /* audit: a count disagrees with the accounts */
};

/* What the frames of an account are used for. */
enum fl_kind {
    FL_PAGES,    /* user memory: image, stack, ring, CapSet, anonymous pages, MemoryObjects */
    FL_TABLES,   /* the page tables of its address space */
    FL_HEAP,     /* kernel heap pages holding its kernel objects and messages */
    FL_STACKS,   /* the kernel stacks of its threads */
    FL_CHILDREN, /* the quotas of its child accounts (charged by opening them) */
    FL_KINDS
};

struct frame_ledger;

struct frame_account {
    uint64_t quota;              /* frames guaranteed; a closed account's equals held */
    uint64_t held;               /* the sum of by_kind */
    uint64_t by_kind[FL_KINDS];  /* held, by use */
    struct frame_account *parent; /* NULL for a root */
    uint32_t children;           /* child accounts not yet removed */
    bool closed;
    /* Private: the ledger's list of accounts. */
    struct frame_ledger *ledger;
    struct frame_account *prev, *next;
};

struct frame_ledger {
    uint64_t total;    /* frames in use: every kind but FL_CHILDREN, all accounts */
    uint32_t accounts; /* accounts on the list, open or lingering */
    struct frame_account *head;
};

void frame_ledger_init(struct frame_ledger *l);

/*
 * Open an empty account with `quota`. With a parent (open on this ledger),
 * the quota is charged to the parent as FL_CHILDREN: FL_ERR_QUOTA if the
 * parent has no room for it. parent NULL opens a root. `a` must be zeroed
 * or removed.
 */
enum fl_status frame_ledger_open(struct frame_ledger *l, struct frame_account *parent,
                                 struct frame_account *a, uint64_t quota);

/* Take n frames of `kind` onto an open account, all or nothing. */
enum fl_status frame_ledger_charge(struct frame_ledger *l, struct frame_account *a,
                                   enum fl_kind kind, uint64_t n);
/* Give n frames of `kind` back, all or nothing. */
enum fl_status frame_ledger_release(struct frame_ledger *l, struct frame_account *a,
                                    enum fl_kind kind, uint64_t n);

/* The owner is gone: no more charges; the unused quota goes back up. */
enum fl_status frame_ledger_close(struct frame_ledger *l, struct frame_account *a);
/* Closed, holding nothing and without children: ready for removal. */
bool frame_account_done(const struct frame_account *a);
/* Take a done account off the ledger; FL_ERR_NOT_DONE otherwise. Its
 * parent may be done afterwards. */
enum fl_status frame_ledger_remove(struct frame_ledger *l, struct frame_account *a);

/* Frames the account may still charge (0 once closed). */
uint64_t frame_account_room(const struct frame_account *a);

/* Check every count against the accounts: totals, per-kind sums, and each
 * parent's FL_CHILDREN against its children's quotas. O(accounts^2); for
 * tests and debug checks. */
enum fl_status frame_ledger_audit(const struct frame_ledger *l);

const char *fl_status_str(enum fl_status s);
const char *fl_kind_str(enum fl_kind k);

#endif
