/*
 * Frame ledger. The invariants every operation keeps, and
 * frame_ledger_audit checks:
 *   - held == the sum of by_kind, for every account;
 *   - held <= quota for an open account, held == quota for a closed one;
 *   - a parent's by_kind[FL_CHILDREN] == the sum of its children's quotas,
 *     and its `children` == how many there are;
 *   - total == the sum over all accounts of held - by_kind[FL_CHILDREN]
 *     (frames in use, each counted once, at the account that uses it).
 * Each operation checks everything that can fail before it changes
 * anything, which is what makes it all or nothing.
 */
#include "kcore/frame_ledger.h"

void frame_ledger_init(struct frame_ledger *l)
{
    l->total = 0;
    l->accounts = 0;
    l->head = NULL;
}

static bool is_on(const struct frame_ledger *l, const struct frame_account *a)
{
    return a->ledger == l;
}

/* Can a take n more frames? Written so that nothing can overflow. */
static bool fits_quota(const struct frame_account *a, uint64_t n)
{
    return a->held <= a->quota && n <= a->quota - a->held;
}

enum fl_status frame_ledger_open(struct frame_ledger *l, struct frame_account *parent,
                                 struct frame_account *a, uint64_t quota)
{
    /* Refuse to relink an account already on some ledger's list, which
     * would corrupt that list. */
    if (a->ledger)
        return FL_ERR_ALREADY_OPEN;
    if (parent) {
        if (!is_on(l, parent))
            return FL_ERR_NOT_OPEN;
        if (parent->closed)
            return FL_ERR_CLOSED;
        if (!fits_quota(parent, quota))
            return FL_ERR_QUOTA;
        if (parent->children == UINT32_MAX)
            return FL_ERR_OVERFLOW;
        parent->by_kind[FL_CHILDREN] += quota;
        parent->held += quota;
        parent->children++;
    }
    *a = (struct frame_account){.quota = quota, .parent = parent, .ledger = l, .next = l->head};
    if (l->head)
        l->head->prev = a;
    l->head = a;
    l->accounts++;
    return FL_OK;
}

enum fl_status frame_ledger_charge(struct frame_ledger *l, struct frame_account *a,
                                   enum fl_kind kind, uint64_t n)
{
    if ((unsigned)kind >= FL_CHILDREN)
        return FL_ERR_BAD_KIND;
    if (!is_on(l, a))
        return FL_ERR_NOT_OPEN;
    if (a->closed)
        return FL_ERR_CLOSED;
    if (!fits_quota(a, n))
        return FL_ERR_QUOTA;
    if (n > UINT64_MAX - l->total)
        return FL_ERR_OVERFLOW;
    a->by_kind[kind] += n;
    a->held += n;
    l->total += n;
    return FL_OK;
}

/* n frames left closed account a (released, or unused quota given back at
 * close): its quota shrinks with them, and they leave its parent's
 * FL_CHILDREN charge, and so on up while the parents are closed too. The
 * first open ancestor keeps its quota and gains the room. */
static void give_back(struct frame_account *a, uint64_t n)
{
    for (struct frame_account *x = a; x->closed; x = x->parent) {
        x->quota -= n;
        struct frame_account *p = x->parent;
        if (!p)
            return;
        p->by_kind[FL_CHILDREN] -= n;
        p->held -= n;
    }
}

enum fl_status frame_ledger_release(struct frame_ledger *l, struct frame_account *a,
                                    enum fl_kind kind, uint64_t n)
{
    if ((unsigned)kind >= FL_CHILDREN)
        return FL_ERR_BAD_KIND;
    if (!is_on(l, a))
        return FL_ERR_NOT_OPEN;
    if (n > a->by_kind[kind])
        return FL_ERR_UNDERFLOW;
    a->by_kind[kind] -= n;
    a->held -= n;
    l->total -= n; /* total >= by_kind[kind] by the invariant */
    give_back(a, n);
    return FL_OK;
}

enum fl_status frame_ledger_close(struct frame_ledger *l, struct frame_account *a)
{
    if (!is_on(l, a))
        return FL_ERR_NOT_OPEN;
    if (a->closed)
        return FL_ERR_CLOSED;
    a->closed = true;
    give_back(a, a->quota - a->held);
    return FL_OK;
}

bool frame_account_done(const struct frame_account *a)
{
    return a->closed && a->held == 0 && a->children == 0;
}

enum fl_status frame_ledger_remove(struct frame_ledger *l, struct frame_account *a)
{
    if (!is_on(l, a))
        return FL_ERR_NOT_OPEN;
    if (!frame_account_done(a))
        return FL_ERR_NOT_DONE;
    if (a->prev)
        a->prev->next = a->next;
    else
        l->head = a->next;
    if (a->next)
        a->next->prev = a->prev;
    /* A done account's quota is 0, so the parent's FL_CHILDREN charge
     * already excludes it; only the count changes. */
    if (a->parent)
        a->parent->children--;
    a->ledger = NULL;
    a->prev = a->next = NULL;
    a->parent = NULL;
    l->accounts--;
    return FL_OK;
}

uint64_t frame_account_room(const struct frame_account *a)
{
    return !a->closed && a->held < a->quota ? a->quota - a->held : 0;
}

/* Add with overflow check, for the audit. */
static bool add_ok(uint64_t *sum, uint64_t v)
{
    if (v > UINT64_MAX - *sum)
        return false;
    *sum += v;
    return true;
}

static bool account_ok(const struct frame_ledger *l, const struct frame_account *a)
{
    uint64_t kinds = 0;
    for (int k = 0; k < FL_KINDS; k++)
        if (!add_ok(&kinds, a->by_kind[k]))
            return false;
    if (kinds != a->held || (a->closed ? a->held != a->quota : a->held > a->quota))
        return false;
    /* The children: their quotas make up the FL_CHILDREN charge. */
    uint64_t quotas = 0;
    uint32_t n = 0;
    for (const struct frame_account *c = l->head; c; c = c->next) {
        if (c->parent != a)
            continue;
        if (!add_ok(&quotas, c->quota))
            return false;
        n++;
    }
    return quotas == a->by_kind[FL_CHILDREN] && n == a->children;
}

enum fl_status frame_ledger_audit(const struct frame_ledger *l)
{
    uint64_t sum = 0;
    uint32_t count = 0;
    const struct frame_account *prev = NULL;
    for (const struct frame_account *a = l->head; a; a = a->next) {
        /* The prev check also ends the walk on a cycle: a node reached a
         * second time is reached from a different predecessor. */
        if (a->ledger != l || a->prev != prev || count == UINT32_MAX)
            return FL_ERR_CORRUPT;
        if (a->parent && a->parent->ledger != l)
            return FL_ERR_CORRUPT;
        if (!add_ok(&sum, a->held - a->by_kind[FL_CHILDREN]))
            return FL_ERR_CORRUPT;
        count++;
        prev = a;
    }
    if (sum != l->total || count != l->accounts)
        return FL_ERR_CORRUPT;
    for (const struct frame_account *a = l->head; a; a = a->next)
        if (!account_ok(l, a))
            return FL_ERR_CORRUPT;
    return FL_OK;
}

const char *fl_status_str(enum fl_status s)
{
    switch (s) {
    case FL_OK:
        return "ok";
    case FL_ERR_QUOTA:
        return "frame quota exceeded";
    case FL_ERR_UNDERFLOW:
        return "releasing more frames than held";
    case FL_ERR_OVERFLOW:
        return "frame count overflow";
    case FL_ERR_NOT_DONE:
        return "account still open, holding frames or with children";
    case FL_ERR_NOT_OPEN:
        return "account not on this ledger";
    case FL_ERR_ALREADY_OPEN:
        return "account already open";
    case FL_ERR_CLOSED:
        return "account closed";
    case FL_ERR_BAD_KIND:
        return "not a kind of charge";
    case FL_ERR_CORRUPT:
        return "ledger does not balance";
    }
    return "unknown status";
}

const char *fl_kind_str(enum fl_kind k)
{
    static const char *const names[FL_KINDS] = {
        [FL_PAGES] = "pages",     [FL_TABLES] = "page tables", [FL_HEAP] = "kernel heap",
        [FL_STACKS] = "kernel stacks", [FL_CHILDREN] = "children",
    };
    return (unsigned)k < FL_KINDS ? names[k] : "unknown kind";
}
