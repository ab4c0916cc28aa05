/*
 * Host tests for the frame ledger: charges and releases against quotas,
 * underflow, transfers, closing, the global total, and a randomized
 * comparison against a model.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kcore/frame_ledger.h"

/* The ledger's invariant, checked independently of frame_ledger_audit. */
static void check(const struct frame_ledger *l, struct frame_account *const *accts, int n)
{
    uint64_t sum = 0;
    uint32_t open = 0;
    for (int i = 0; i < n; i++) {
        if (accts[i]->ledger == l) {
            sum += accts[i]->held;
            open++;
        } else {
            cr_assert_eq(accts[i]->held, 0, "a closed account holds frames");
        }
    }
    cr_assert_eq(l->total, sum);
    cr_assert_eq(l->accounts, open);
    cr_assert_eq(frame_ledger_audit(l), FL_OK);
}

Test(ledger, charge_and_release)
{
    struct frame_ledger l;
    struct frame_account a = {0};
    frame_ledger_init(&l);
    cr_assert_eq(frame_ledger_open(&l, &a, 10), FL_OK);
    cr_assert(frame_account_balanced(&a));
    cr_assert_eq(frame_account_room(&a), 10);
    cr_assert_eq(frame_ledger_charge(&l, &a, 4), FL_OK);
    cr_assert_eq(frame_ledger_charge(&l, &a, 0), FL_OK);
    cr_assert_eq(a.held, 4);
    cr_assert_eq(l.total, 4);
    cr_assert_eq(frame_account_room(&a), 6);
    cr_assert_not(frame_account_balanced(&a));
    cr_assert_eq(frame_ledger_release(&l, &a, 3), FL_OK);
    cr_assert_eq(a.held, 1);
    cr_assert_eq(l.total, 1);
    cr_assert_eq(frame_ledger_release(&l, &a, 1), FL_OK);
    cr_assert(frame_account_balanced(&a));
    cr_assert_eq(l.total, 0);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, quota_is_all_or_nothing)
{
    struct frame_ledger l;
    struct frame_account a = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, &a, 10);
    cr_assert_eq(frame_ledger_charge(&l, &a, 11), FL_ERR_QUOTA);
    cr_assert_eq(a.held, 0, "a refused charge takes nothing");
    cr_assert_eq(frame_ledger_charge(&l, &a, 10), FL_OK);
    cr_assert_eq(frame_ledger_charge(&l, &a, 1), FL_ERR_QUOTA);
    cr_assert_eq(frame_ledger_charge(&l, &a, UINT64_MAX), FL_ERR_QUOTA);
    cr_assert_eq(a.held, 10);
    cr_assert_eq(l.total, 10);
    cr_assert_eq(frame_account_room(&a), 0);

    /* Lowering the quota below what is held blocks charges, not releases. */
    frame_ledger_set_quota(&a, 4);
    cr_assert_eq(frame_account_room(&a), 0);
    cr_assert_eq(frame_ledger_charge(&l, &a, 1), FL_ERR_QUOTA);
    cr_assert_eq(frame_ledger_charge(&l, &a, UINT64_MAX), FL_ERR_QUOTA);
    cr_assert_eq(frame_ledger_release(&l, &a, 7), FL_OK);
    cr_assert_eq(frame_account_room(&a), 1);
    cr_assert_eq(frame_ledger_charge(&l, &a, 1), FL_OK);
    cr_assert_eq(l.total, 4);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, underflow_is_detected)
{
    struct frame_ledger l;
    struct frame_account a = {0}, b = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, &a, 100);
    frame_ledger_open(&l, &b, 100);
    cr_assert_eq(frame_ledger_release(&l, &a, 1), FL_ERR_UNDERFLOW);
    frame_ledger_charge(&l, &a, 5);
    frame_ledger_charge(&l, &b, 7);
    /* a's 5 plus b's 7 make a total of 12, but a cannot release 6. */
    cr_assert_eq(frame_ledger_release(&l, &a, 6), FL_ERR_UNDERFLOW);
    cr_assert_eq(frame_ledger_release(&l, &a, UINT64_MAX), FL_ERR_UNDERFLOW);
    cr_assert_eq(a.held, 5);
    cr_assert_eq(b.held, 7);
    cr_assert_eq(l.total, 12);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, overflow_of_the_total)
{
    struct frame_ledger l;
    struct frame_account a = {0}, b = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, &a, UINT64_MAX);
    frame_ledger_open(&l, &b, UINT64_MAX);
    cr_assert_eq(frame_ledger_charge(&l, &a, UINT64_MAX - 1), FL_OK);
    cr_assert_eq(frame_ledger_charge(&l, &b, 2), FL_ERR_OVERFLOW);
    cr_assert_eq(b.held, 0);
    cr_assert_eq(frame_ledger_charge(&l, &b, 1), FL_OK);
    cr_assert_eq(l.total, UINT64_MAX);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, open_and_close)
{
    struct frame_ledger l, other;
    struct frame_account a = {0}, b = {0}, c = {0};
    frame_ledger_init(&l);
    frame_ledger_init(&other);
    cr_assert_eq(frame_ledger_open(&l, &a, 8), FL_OK);
    cr_assert_eq(frame_ledger_open(&l, &a, 8), FL_ERR_ALREADY_OPEN);
    cr_assert_eq(frame_ledger_open(&other, &a, 8), FL_ERR_ALREADY_OPEN);
    cr_assert_eq(frame_ledger_open(&l, &b, 8), FL_OK);
    cr_assert_eq(frame_ledger_open(&l, &c, 8), FL_OK);
    cr_assert_eq(l.accounts, 3);

    /* Only balanced accounts close; a refused close changes nothing. */
    frame_ledger_charge(&l, &b, 3);
    cr_assert_eq(frame_ledger_close(&l, &b), FL_ERR_NOT_BALANCED);
    cr_assert_eq(l.accounts, 3);
    cr_assert_eq(b.held, 3);
    cr_assert_eq(frame_ledger_close(&other, &a), FL_ERR_NOT_OPEN);
    cr_assert_eq(frame_ledger_charge(&other, &a, 1), FL_ERR_NOT_OPEN);
    cr_assert_eq(frame_ledger_release(&other, &b, 1), FL_ERR_NOT_OPEN);
    cr_assert_eq(frame_ledger_audit(&other), FL_OK);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);

    /* Close from the middle, the head and the tail of the list. */
    frame_ledger_release(&l, &b, 3);
    cr_assert_eq(frame_ledger_close(&l, &b), FL_OK);
    cr_assert_eq(frame_ledger_close(&l, &b), FL_ERR_NOT_OPEN);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    cr_assert_eq(frame_ledger_close(&l, &c), FL_OK);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    cr_assert_eq(frame_ledger_charge(&l, &c, 1), FL_ERR_NOT_OPEN);
    cr_assert_eq(frame_ledger_close(&l, &a), FL_OK);
    cr_assert_eq(l.accounts, 0);
    cr_assert_null(l.head);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);

    /* A closed account can be opened again, on any ledger. */
    cr_assert_eq(frame_ledger_open(&other, &b, 2), FL_OK);
    cr_assert_eq(frame_ledger_charge(&other, &b, 2), FL_OK);
    cr_assert_eq(other.total, 2);
}

Test(ledger, transfer_between_accounts)
{
    struct frame_ledger l;
    struct frame_account a = {0}, b = {0}, c = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, &a, 10);
    frame_ledger_open(&l, &b, 4);
    frame_ledger_charge(&l, &a, 8);
    frame_ledger_charge(&l, &b, 1);
    cr_assert_eq(frame_ledger_transfer(&l, &a, &b, 3), FL_OK);
    cr_assert_eq(a.held, 5);
    cr_assert_eq(b.held, 4);
    cr_assert_eq(l.total, 9, "a transfer does not change the total");
    cr_assert_eq(frame_ledger_transfer(&l, &a, &b, 1), FL_ERR_QUOTA);
    cr_assert_eq(frame_ledger_transfer(&l, &b, &a, 5), FL_ERR_UNDERFLOW);
    cr_assert_eq(frame_ledger_transfer(&l, &a, &a, 5), FL_OK);
    cr_assert_eq(frame_ledger_transfer(&l, &a, &a, 6), FL_ERR_UNDERFLOW);
    cr_assert_eq(frame_ledger_transfer(&l, &a, &c, 1), FL_ERR_NOT_OPEN);
    cr_assert_eq(a.held, 5);
    cr_assert_eq(b.held, 4);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, audit_detects_corruption)
{
    struct frame_ledger l;
    struct frame_account a = {0}, b = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, &a, 10);
    frame_ledger_open(&l, &b, 10);
    frame_ledger_charge(&l, &a, 2);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    l.total++;
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    l.total--;
    a.held++; /* someone wrote the account behind the ledger's back */
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    a.held--;
    l.accounts = 1;
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    l.accounts = 2;
    struct frame_account *saved = b.next;
    b.next = &b; /* a cycle must not hang the audit */
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    b.next = saved;
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, status_strings)
{
    cr_assert_str_eq(fl_status_str(FL_OK), "ok");
    cr_assert_str_eq(fl_status_str(FL_ERR_QUOTA), "frame quota exceeded");
    cr_assert_str_eq(fl_status_str(FL_ERR_UNDERFLOW), "releasing more frames than held");
    cr_assert_str_eq(fl_status_str((enum fl_status)99), "unknown status");
    for (int s = FL_OK; s <= FL_ERR_CORRUPT; s++)
        cr_assert_str_neq(fl_status_str((enum fl_status)s), "unknown status", "status %d", s);
}

/* ---- Randomized comparison against a model ---- */

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
}

#define NACCT 8

Test(ledger, random_ops_match_model)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rng = seed * 0x9e3779b97f4a7c15ull;
        struct frame_ledger l;
        struct frame_account acct[NACCT];
        struct frame_account *ptr[NACCT];
        uint64_t held[NACCT] = {0}, quota[NACCT] = {0};
        bool open[NACCT] = {false};
        memset(acct, 0, sizeof acct);
        frame_ledger_init(&l);
        for (int i = 0; i < NACCT; i++)
            ptr[i] = &acct[i];

        for (int op = 0; op < 3000; op++) {
            int i = (int)rnd(NACCT), j = (int)rnd(NACCT);
            uint64_t n = rnd(4) ? rnd(8) : rnd(40);
            enum fl_status exp, st;
            switch (rnd(6)) {
            case 0: /* open or close */
                if (!open[i]) {
                    quota[i] = rnd(64);
                    cr_assert_eq(frame_ledger_open(&l, &acct[i], quota[i]), FL_OK);
                    open[i] = true;
                    held[i] = 0;
                } else {
                    exp = held[i] ? FL_ERR_NOT_BALANCED : FL_OK;
                    cr_assert_eq(frame_ledger_close(&l, &acct[i]), exp, "seed %lu op %d", seed, op);
                    open[i] = exp != FL_OK;
                }
                break;
            case 1:
            case 2: /* charge */
                exp = !open[i] ? FL_ERR_NOT_OPEN : held[i] + n > quota[i] ? FL_ERR_QUOTA : FL_OK;
                st = frame_ledger_charge(&l, &acct[i], n);
                cr_assert_eq(st, exp, "seed %lu op %d", seed, op);
                if (st == FL_OK)
                    held[i] += n;
                break;
            case 3:
            case 4: /* release */
                exp = !open[i] ? FL_ERR_NOT_OPEN : n > held[i] ? FL_ERR_UNDERFLOW : FL_OK;
                st = frame_ledger_release(&l, &acct[i], n);
                cr_assert_eq(st, exp, "seed %lu op %d", seed, op);
                if (st == FL_OK)
                    held[i] -= n;
                break;
            default: /* transfer, or a quota change */
                if (rnd(8) == 0 && open[i]) {
                    quota[i] = rnd(64);
                    frame_ledger_set_quota(&acct[i], quota[i]);
                    break;
                }
                exp = !open[i] || !open[j]     ? FL_ERR_NOT_OPEN
                      : n > held[i]            ? FL_ERR_UNDERFLOW
                      : i == j                 ? FL_OK
                      : held[j] + n > quota[j] ? FL_ERR_QUOTA
                                               : FL_OK;
                st = frame_ledger_transfer(&l, &acct[i], &acct[j], n);
                cr_assert_eq(st, exp, "seed %lu op %d", seed, op);
                if (st == FL_OK) {
                    held[i] -= n;
                    held[j] += n;
                }
                break;
            }
            uint64_t total = 0;
            for (int k = 0; k < NACCT; k++) {
                cr_assert_eq(acct[k].held, open[k] ? held[k] : 0);
                total += open[k] ? held[k] : 0;
            }
            cr_assert_eq(l.total, total);
            check(&l, ptr, NACCT);
        }
        /* Process exit for everyone: release what each holds, then every
         * account balances and closes, and the ledger is empty. */
        for (int k = 0; k < NACCT; k++) {
            if (!open[k])
                continue;
            cr_assert_eq(frame_ledger_release(&l, &acct[k], held[k]), FL_OK);
            cr_assert(frame_account_balanced(&acct[k]));
            cr_assert_eq(frame_ledger_close(&l, &acct[k]), FL_OK);
        }
        cr_assert_eq(l.total, 0);
        cr_assert_eq(l.accounts, 0);
        cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    }
}
