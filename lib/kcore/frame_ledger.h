/*
 * Frame ledger: who holds how many physical frames. Pure, freestanding
 * bookkeeping with no allocation.
 *
 * Each process embeds a struct frame_account in its own process structure
 * and opens it on a ledger. Every frame granted to the process (memory
 * objects, page tables, its ring and CapSet pages, ...) is charged to its
 * account; every frame given back is released. The ledger keeps the global
 * total and links the open accounts, so an audit can prove that the total
 * equals the sum of the accounts, and closing an account proves that a dead
 * process's frames all went back.
 *
 * Every failing call changes nothing. Not thread-safe: the kernel holds the
 * ledger's lock around every call.
 */
#ifndef CAPOS_LIB_FRAME_LEDGER_H
#define CAPOS_LIB_FRAME_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fl_status {
    FL_OK = 0,
    FL_ERR_QUOTA,        /* the charge would take the account past its quota */
    FL_ERR_UNDERFLOW,    /* releasing more frames than the account holds */
    FL_ERR_OVERFLOW,     /* the global total would overflow */
    FL_ERR_NOT_BALANCED, /* closing an account that still holds frames */
    FL_ERR_NOT_OPEN,     /* the account is not open on this ledger */
    FL_ERR_ALREADY_OPEN, /* opening an account twice */
    FL_ERR_CORRUPT,      /* audit: total differs from the sum of the accounts */
};

struct frame_ledger;

struct frame_account {
    uint64_t held;  /* frames charged and not yet released */
    uint64_t quota; /* held may not exceed this (lowering it below held only
                       blocks further charges) */
    /* Private: the ledger's list of open accounts. */
    struct frame_ledger *ledger;
    struct frame_account *prev, *next;
};

struct frame_ledger {
    uint64_t total;    /* sum of held over open accounts */
    uint32_t accounts; /* open accounts */
    struct frame_account *head;
};

void frame_ledger_init(struct frame_ledger *l);

/* Open an empty account with the given quota. a must be zeroed or closed;
 * FL_ERR_ALREADY_OPEN if it is open on any ledger. */
enum fl_status frame_ledger_open(struct frame_ledger *l, struct frame_account *a, uint64_t quota);
/* Close an account: FL_ERR_NOT_BALANCED (account left open and unchanged)
 * unless it holds nothing. */
enum fl_status frame_ledger_close(struct frame_ledger *l, struct frame_account *a);

/* Take n frames onto the account, all or nothing. */
enum fl_status frame_ledger_charge(struct frame_ledger *l, struct frame_account *a, uint64_t n);
/* Give n frames back, all or nothing. */
enum fl_status frame_ledger_release(struct frame_ledger *l, struct frame_account *a, uint64_t n);
/* Move n frames from one account to another (a memory object changing
 * hands), all or nothing: checks the source holds them and the destination
 * has quota for them. */
enum fl_status frame_ledger_transfer(struct frame_ledger *l, struct frame_account *from,
                                     struct frame_account *to, uint64_t n);

void frame_ledger_set_quota(struct frame_account *a, uint64_t quota);
/* Frames the account may still charge. */
uint64_t frame_account_room(const struct frame_account *a);
bool frame_account_balanced(const struct frame_account *a);

/* Walk the open accounts: FL_ERR_CORRUPT unless their sum and count match
 * the ledger's total and count. O(accounts); for tests and debug checks. */
enum fl_status frame_ledger_audit(const struct frame_ledger *l);

const char *fl_status_str(enum fl_status s);

#endif
