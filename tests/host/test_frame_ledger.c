/*
 * Host tests for the frame ledger: quotas carved from parents, charges and
 * releases by kind, closing with frames still held (lingering accounts),
 * removal, the global total, a hostile child that cannot take its
 * sibling's guarantee, and a randomized comparison against a model.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kcore/frame_ledger.h"
#include "test_rng.h"

Test(ledger, charge_and_release)
{
    struct frame_ledger l;
    struct frame_account a = {0};
    frame_ledger_init(&l);
    cr_assert_eq(frame_ledger_open(&l, NULL, &a, 10), FL_OK);
    cr_assert_eq(frame_account_room(&a), 10);
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_PAGES, 4), FL_OK);
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_TABLES, 2), FL_OK);
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_HEAP, 0), FL_OK);
    cr_assert_eq(a.held, 6);
    cr_assert_eq(a.by_kind[FL_PAGES], 4);
    cr_assert_eq(a.by_kind[FL_TABLES], 2);
    cr_assert_eq(l.total, 6);
    cr_assert_eq(frame_account_room(&a), 4);
    /* Releases are by kind: tables cannot be released as pages. */
    cr_assert_eq(frame_ledger_release(&l, &a, FL_TABLES, 3), FL_ERR_UNDERFLOW);
    cr_assert_eq(frame_ledger_release(&l, &a, FL_PAGES, 3), FL_OK);
    cr_assert_eq(a.held, 3);
    cr_assert_eq(l.total, 3);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, kinds_are_checked)
{
    struct frame_ledger l;
    struct frame_account a = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, NULL, &a, 10);
    /* FL_CHILDREN is charged only by opening a child. */
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_CHILDREN, 1), FL_ERR_BAD_KIND);
    cr_assert_eq(frame_ledger_release(&l, &a, FL_CHILDREN, 0), FL_ERR_BAD_KIND);
    cr_assert_eq(frame_ledger_charge(&l, &a, (enum fl_kind)77, 1), FL_ERR_BAD_KIND);
    cr_assert_eq(frame_ledger_charge(&l, &a, (enum fl_kind) - 1, 1), FL_ERR_BAD_KIND);
    cr_assert_eq(a.held, 0);
    cr_assert_str_eq(fl_kind_str(FL_TABLES), "page tables");
    cr_assert_str_eq(fl_kind_str((enum fl_kind)9), "unknown kind");
}

Test(ledger, quota_is_all_or_nothing)
{
    struct frame_ledger l;
    struct frame_account a = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, NULL, &a, 10);
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_PAGES, 11), FL_ERR_QUOTA);
    cr_assert_eq(a.held, 0, "a refused charge takes nothing");
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_PAGES, 10), FL_OK);
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_HEAP, 1), FL_ERR_QUOTA);
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_PAGES, UINT64_MAX), FL_ERR_QUOTA);
    cr_assert_eq(a.held, 10);
    cr_assert_eq(frame_account_room(&a), 0);
}

Test(ledger, overflow_of_the_total)
{
    struct frame_ledger l;
    struct frame_account a = {0}, b = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, NULL, &a, UINT64_MAX);
    frame_ledger_open(&l, NULL, &b, UINT64_MAX);
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_PAGES, UINT64_MAX - 1), FL_OK);
    cr_assert_eq(frame_ledger_charge(&l, &b, FL_PAGES, 2), FL_ERR_OVERFLOW);
    cr_assert_eq(b.held, 0);
    cr_assert_eq(frame_ledger_charge(&l, &b, FL_PAGES, 1), FL_OK);
    cr_assert_eq(l.total, UINT64_MAX);
}

Test(ledger, child_quota_is_carved_from_the_parent)
{
    struct frame_ledger l;
    struct frame_account root = {0}, a = {0}, b = {0}, c = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, NULL, &root, 100);
    frame_ledger_charge(&l, &root, FL_PAGES, 10);
    cr_assert_eq(frame_ledger_open(&l, &root, &a, 60), FL_OK);
    cr_assert_eq(root.held, 70);
    cr_assert_eq(root.by_kind[FL_CHILDREN], 60);
    cr_assert_eq(l.total, 10, "a reservation is not a frame in use");
    /* Only 30 left: a 31-frame child is refused and changes nothing. */
    cr_assert_eq(frame_ledger_open(&l, &root, &b, 31), FL_ERR_QUOTA);
    cr_assert_null(b.ledger);
    cr_assert_eq(root.held, 70);
    cr_assert_eq(frame_ledger_open(&l, &root, &b, 30), FL_OK);
    cr_assert_eq(frame_account_room(&root), 0);
    /* The grandchild comes out of a, not root. */
    cr_assert_eq(frame_ledger_open(&l, &a, &c, 61), FL_ERR_QUOTA);
    cr_assert_eq(frame_ledger_open(&l, &a, &c, 20), FL_OK);
    cr_assert_eq(a.by_kind[FL_CHILDREN], 20);
    cr_assert_eq(root.children, 2);
    cr_assert_eq(a.children, 1);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, a_hostile_child_cannot_take_its_siblings_guarantee)
{
    struct frame_ledger l;
    struct frame_account root = {0}, bad = {0}, good = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, NULL, &root, 1000);
    frame_ledger_open(&l, &root, &bad, 400);
    frame_ledger_open(&l, &root, &good, 600);
    /* bad charges everything it can, of every kind, and asks for more. */
    for (int k = 0; k < FL_CHILDREN; k++)
        while (frame_ledger_charge(&l, &bad, (enum fl_kind)k, 7) == FL_OK)
            ;
    while (frame_ledger_charge(&l, &bad, FL_PAGES, 1) == FL_OK)
        ;
    cr_assert_eq(bad.held, 400);
    struct frame_account grandchild = {0};
    cr_assert_eq(frame_ledger_open(&l, &bad, &grandchild, 1), FL_ERR_QUOTA);
    /* good still gets all 600, one frame at a time. */
    for (int i = 0; i < 600; i++)
        cr_assert_eq(frame_ledger_charge(&l, &good, (enum fl_kind)(i % 4), 1), FL_OK);
    cr_assert_eq(l.total, 1000);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, close_gives_back_unused_quota_and_lingers_while_holding)
{
    struct frame_ledger l;
    struct frame_account root = {0}, a = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, NULL, &root, 100);
    frame_ledger_open(&l, &root, &a, 50);
    frame_ledger_charge(&l, &a, FL_PAGES, 5);
    frame_ledger_charge(&l, &a, FL_HEAP, 2);
    cr_assert_eq(frame_ledger_close(&l, &a), FL_OK);
    cr_assert_eq(frame_ledger_close(&l, &a), FL_ERR_CLOSED);
    /* Root pays only for what a still holds. */
    cr_assert_eq(a.quota, 7);
    cr_assert_eq(root.held, 7);
    cr_assert_eq(frame_account_room(&root), 93);
    cr_assert_eq(frame_account_room(&a), 0);
    cr_assert_eq(frame_ledger_charge(&l, &a, FL_PAGES, 1), FL_ERR_CLOSED);
    struct frame_account child = {0};
    cr_assert_eq(frame_ledger_open(&l, &a, &child, 0), FL_ERR_CLOSED);
    cr_assert_not(frame_account_done(&a));
    cr_assert_eq(frame_ledger_remove(&l, &a), FL_ERR_NOT_DONE);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    /* Another holder lets go: each release goes back to root. */
    cr_assert_eq(frame_ledger_release(&l, &a, FL_PAGES, 5), FL_OK);
    cr_assert_eq(root.held, 2);
    cr_assert_eq(l.total, 2);
    cr_assert_eq(frame_ledger_release(&l, &a, FL_HEAP, 2), FL_OK);
    cr_assert(frame_account_done(&a));
    cr_assert_eq(root.held, 0);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    cr_assert_eq(frame_ledger_remove(&l, &a), FL_OK);
    cr_assert_eq(root.children, 0);
    cr_assert_eq(l.accounts, 1);
    cr_assert_eq(frame_ledger_remove(&l, &a), FL_ERR_NOT_OPEN);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    /* A removed account can be opened again. */
    cr_assert_eq(frame_ledger_open(&l, &root, &a, 3), FL_OK);
}

Test(ledger, releases_climb_through_closed_ancestors)
{
    struct frame_ledger l;
    struct frame_account root = {0}, a = {0}, b = {0}, c = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, NULL, &root, 100);
    frame_ledger_open(&l, &root, &a, 60);
    frame_ledger_open(&l, &a, &b, 30);
    frame_ledger_open(&l, &b, &c, 10);
    frame_ledger_charge(&l, &c, FL_PAGES, 4);
    frame_ledger_charge(&l, &b, FL_STACKS, 1);
    /* a and b exit before their child c. */
    frame_ledger_close(&l, &a);
    frame_ledger_close(&l, &b);
    cr_assert_eq(b.quota, 11, "b keeps c's quota and its own stack");
    cr_assert_eq(a.quota, 11);
    cr_assert_eq(root.held, 11);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    /* c still works within its quota. */
    cr_assert_eq(frame_ledger_charge(&l, &c, FL_PAGES, 6), FL_OK);
    cr_assert_eq(frame_ledger_charge(&l, &c, FL_PAGES, 1), FL_ERR_QUOTA);
    /* c exits holding 3: the other 7 go straight back to root. */
    frame_ledger_release(&l, &c, FL_PAGES, 7);
    cr_assert_eq(root.held, 11, "an open c keeps its whole quota");
    frame_ledger_close(&l, &c);
    cr_assert_eq(root.held, 4);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    frame_ledger_release(&l, &b, FL_STACKS, 1);
    cr_assert_eq(root.held, 3);
    cr_assert_not(frame_account_done(&b), "b still has its child");
    frame_ledger_release(&l, &c, FL_PAGES, 3);
    cr_assert_eq(root.held, 0);
    /* Removal goes from the leaf up. */
    cr_assert_eq(frame_ledger_remove(&l, &b), FL_ERR_NOT_DONE);
    cr_assert_eq(frame_ledger_remove(&l, &c), FL_OK);
    cr_assert_eq(frame_ledger_remove(&l, &b), FL_OK);
    cr_assert_eq(frame_ledger_remove(&l, &a), FL_OK);
    cr_assert_eq(l.accounts, 1);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, other_ledgers_and_double_open)
{
    struct frame_ledger l, other;
    struct frame_account a = {0}, b = {0};
    frame_ledger_init(&l);
    frame_ledger_init(&other);
    cr_assert_eq(frame_ledger_open(&l, NULL, &a, 8), FL_OK);
    cr_assert_eq(frame_ledger_open(&l, NULL, &a, 8), FL_ERR_ALREADY_OPEN);
    cr_assert_eq(frame_ledger_open(&other, NULL, &a, 8), FL_ERR_ALREADY_OPEN);
    cr_assert_eq(frame_ledger_open(&other, &a, &b, 1), FL_ERR_NOT_OPEN);
    cr_assert_null(b.ledger);
    cr_assert_eq(frame_ledger_charge(&other, &a, FL_PAGES, 1), FL_ERR_NOT_OPEN);
    cr_assert_eq(frame_ledger_release(&other, &a, FL_PAGES, 0), FL_ERR_NOT_OPEN);
    cr_assert_eq(frame_ledger_close(&other, &a), FL_ERR_NOT_OPEN);
    cr_assert_eq(a.held, 0);
    cr_assert_eq(frame_ledger_audit(&other), FL_OK);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, audit_detects_corruption)
{
    struct frame_ledger l;
    struct frame_account a = {0}, b = {0}, c = {0};
    frame_ledger_init(&l);
    frame_ledger_open(&l, NULL, &a, 10);
    frame_ledger_open(&l, &a, &b, 5);
    frame_ledger_open(&l, NULL, &c, 10);
    frame_ledger_charge(&l, &b, FL_PAGES, 2);
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    l.total++;
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    l.total--;
    b.by_kind[FL_PAGES]++; /* someone wrote the account behind the ledger's back */
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    b.by_kind[FL_PAGES]--;
    b.quota = 6; /* the parent's FL_CHILDREN no longer matches */
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    b.quota = 5;
    a.children = 2;
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    a.children = 1;
    l.accounts = 2;
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    l.accounts = 3;
    struct frame_account *saved = c.next;
    c.next = &c; /* a cycle must not hang the audit */
    cr_assert_eq(frame_ledger_audit(&l), FL_ERR_CORRUPT);
    c.next = saved;
    cr_assert_eq(frame_ledger_audit(&l), FL_OK);
}

Test(ledger, status_strings)
{
    cr_assert_str_eq(fl_status_str(FL_OK), "ok");
    cr_assert_str_eq(fl_status_str(FL_ERR_QUOTA), "frame quota exceeded");
    cr_assert_str_eq(fl_status_str((enum fl_status)99), "unknown status");
    for (int s = FL_OK; s <= FL_ERR_CORRUPT; s++)
        cr_assert_str_neq(fl_status_str((enum fl_status)s), "unknown status", "status %d", s);
}

/* ---- Randomized comparison against a model ---- */

#define NACCT 10

/* The model: each account's own charges by kind, its parent, its opening
 * quota, and whether it is open, closed (lingering) or removed. Quotas and
 * held amounts are derived from these, independently of the ledger. */
struct model {
    int state; /* 0 absent, 1 open, 2 closed */
    int parent;
    uint64_t quota0;
    uint64_t own[FL_CHILDREN];
};

static uint64_t own_sum(const struct model *m)
{
    uint64_t s = 0;
    for (int k = 0; k < FL_CHILDREN; k++)
        s += m->own[k];
    return s;
}

/* A closed account's quota is what it and its subtree still hold. */
static uint64_t quota_of(const struct model *m, int i);

static uint64_t children_of(const struct model *m, int i)
{
    uint64_t s = 0;
    for (int c = 0; c < NACCT; c++)
        if (m[c].state && m[c].parent == i)
            s += quota_of(m, c);
    return s;
}

static uint64_t quota_of(const struct model *m, int i)
{
    return m[i].state == 1 ? m[i].quota0 : own_sum(&m[i]) + children_of(m, i);
}

static bool done(const struct model *m, int i)
{
    if (m[i].state != 2 || own_sum(&m[i]))
        return false;
    for (int c = 0; c < NACCT; c++)
        if (m[c].state && m[c].parent == i)
            return false;
    return true;
}

Test(ledger, random_ops_match_model)
{
    for (uint64_t seed = 1; seed <= 60; seed++) {
        rng = seed * 0x9e3779b97f4a7c15ull;
        struct frame_ledger l;
        struct frame_account acct[NACCT + 1];
        struct model m[NACCT];
        memset(acct, 0, sizeof acct);
        memset(m, 0, sizeof m);
        frame_ledger_init(&l);
        /* acct[NACCT] is the root, never closed. */
        frame_ledger_open(&l, NULL, &acct[NACCT], 200);
        uint64_t root_own = 0;

        for (int op = 0; op < 4000; op++) {
            int i = (int)rnd(NACCT);
            enum fl_kind kind = (enum fl_kind)rnd(FL_CHILDREN);
            uint64_t n = rnd(4) ? rnd(8) : rnd(40);
            enum fl_status exp, st;
            switch (rnd(8)) {
            case 0: { /* open under the root or a random account */
                if (m[i].state)
                    break;
                int p = (int)rnd(NACCT + 1);
                if (p == i || (p < NACCT && m[p].state != 1))
                    p = NACCT;
                uint64_t q = rnd(60);
                uint64_t pheld = p == NACCT ? root_own + children_of(m, NACCT)
                                            : own_sum(&m[p]) + children_of(m, p);
                uint64_t pquota = p == NACCT ? 200 : m[p].quota0;
                exp = pheld + q > pquota ? FL_ERR_QUOTA : FL_OK;
                st = frame_ledger_open(&l, &acct[p], &acct[i], q);
                cr_assert_eq(st, exp, "seed %lu op %d", seed, op);
                if (st == FL_OK)
                    m[i] = (struct model){.state = 1, .parent = p, .quota0 = q};
                break;
            }
            case 1: /* close, or remove when done */
                if (m[i].state == 1) {
                    cr_assert_eq(frame_ledger_close(&l, &acct[i]), FL_OK);
                    m[i].state = 2;
                } else if (m[i].state == 2) {
                    exp = done(m, i) ? FL_OK : FL_ERR_NOT_DONE;
                    cr_assert_eq(frame_ledger_remove(&l, &acct[i]), exp, "seed %lu op %d", seed,
                                 op);
                    if (exp == FL_OK)
                        m[i].state = 0;
                }
                break;
            case 2:
            case 3:
            case 4: /* charge */
                exp = !m[i].state                                            ? FL_ERR_NOT_OPEN
                      : m[i].state == 2                                      ? FL_ERR_CLOSED
                      : own_sum(&m[i]) + children_of(m, i) + n > m[i].quota0 ? FL_ERR_QUOTA
                                                                             : FL_OK;
                st = frame_ledger_charge(&l, &acct[i], kind, n);
                cr_assert_eq(st, exp, "seed %lu op %d", seed, op);
                if (st == FL_OK)
                    m[i].own[kind] += n;
                break;
            case 5: /* the root's own use */
                if (frame_ledger_charge(&l, &acct[NACCT], kind, 1) == FL_OK)
                    root_own++;
                break;
            default: /* release */
                exp = !m[i].state ? FL_ERR_NOT_OPEN : n > m[i].own[kind] ? FL_ERR_UNDERFLOW : FL_OK;
                st = frame_ledger_release(&l, &acct[i], kind, n);
                cr_assert_eq(st, exp, "seed %lu op %d", seed, op);
                if (st == FL_OK)
                    m[i].own[kind] -= n;
                break;
            }
            uint64_t total = root_own;
            for (int k = 0; k < NACCT; k++) {
                if (!m[k].state) {
                    cr_assert_null(acct[k].ledger);
                    continue;
                }
                total += own_sum(&m[k]);
                cr_assert_eq(acct[k].quota, quota_of(m, k), "seed %lu op %d acct %d", seed, op, k);
                cr_assert_eq(acct[k].held, own_sum(&m[k]) + children_of(m, k));
                cr_assert_eq(frame_account_done(&acct[k]), done(m, k));
            }
            cr_assert_eq(acct[NACCT].held, root_own + children_of(m, NACCT));
            cr_assert_eq(l.total, total);
            cr_assert_eq(frame_ledger_audit(&l), FL_OK, "seed %lu op %d", seed, op);
        }
        /* Everyone exits and lets go: every account becomes done and the
         * root holds only its own charge. */
        for (int k = 0; k < NACCT; k++) {
            if (m[k].state == 1)
                frame_ledger_close(&l, &acct[k]);
            for (int kind = 0; kind < FL_CHILDREN; kind++)
                if (m[k].state)
                    cr_assert_eq(frame_ledger_release(&l, &acct[k], kind, m[k].own[kind]), FL_OK);
        }
        for (int pass = 0; pass < NACCT; pass++)
            for (int k = 0; k < NACCT; k++)
                if (acct[k].ledger && frame_account_done(&acct[k]))
                    frame_ledger_remove(&l, &acct[k]);
        cr_assert_eq(l.accounts, 1);
        cr_assert_eq(acct[NACCT].held, root_own);
        cr_assert_eq(l.total, root_own);
        cr_assert_eq(frame_ledger_audit(&l), FL_OK);
    }
}
