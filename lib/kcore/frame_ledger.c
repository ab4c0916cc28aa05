/*
 * Frame ledger. The invariant every operation keeps, and frame_ledger_audit
 * checks: total == sum of held over the open accounts, and accounts == the
 * length of the list. Each operation checks everything that can fail before
 * it changes anything, which is what makes it all or nothing.
 */
#include "kcore/frame_ledger.h"

void frame_ledger_init(struct frame_ledger *l)
{
    l->total = 0;
    l->accounts = 0;
    l->head = NULL;
}

static bool is_open_on(const struct frame_ledger *l, const struct frame_account *a)
{
    return a->ledger == l;
}

enum fl_status frame_ledger_open(struct frame_ledger *l, struct frame_account *a, uint64_t quota)
{
    /* An account embedded in a fresh (zeroed) process struct has no ledger;
     * refuse to relink one that is already on some ledger's list, which
     * would corrupt that list. */
    if (a->ledger)
        return FL_ERR_ALREADY_OPEN;
    a->held = 0;
    a->quota = quota;
    a->ledger = l;
    a->prev = NULL;
    a->next = l->head;
    if (l->head)
        l->head->prev = a;
    l->head = a;
    l->accounts++;
    return FL_OK;
}

enum fl_status frame_ledger_close(struct frame_ledger *l, struct frame_account *a)
{
    if (!is_open_on(l, a))
        return FL_ERR_NOT_OPEN;
    if (a->held != 0)
        return FL_ERR_NOT_BALANCED;
    if (a->prev)
        a->prev->next = a->next;
    else
        l->head = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->ledger = NULL;
    a->prev = a->next = NULL;
    l->accounts--;
    return FL_OK;
}

/* Can a take n more frames? Written so that nothing can overflow: held may
 * exceed quota after the quota was lowered. */
static bool fits_quota(const struct frame_account *a, uint64_t n)
{
    return a->held <= a->quota && n <= a->quota - a->held;
}

enum fl_status frame_ledger_charge(struct frame_ledger *l, struct frame_account *a, uint64_t n)
{
    if (!is_open_on(l, a))
        return FL_ERR_NOT_OPEN;
    if (!fits_quota(a, n))
        return FL_ERR_QUOTA;
    if (n > UINT64_MAX - l->total)
        return FL_ERR_OVERFLOW;
    a->held += n;
    l->total += n;
    return FL_OK;
}

enum fl_status frame_ledger_release(struct frame_ledger *l, struct frame_account *a, uint64_t n)
{
    if (!is_open_on(l, a))
        return FL_ERR_NOT_OPEN;
    if (n > a->held)
        return FL_ERR_UNDERFLOW;
    a->held -= n;
    l->total -= n; /* total >= held by the invariant */
    return FL_OK;
}

enum fl_status frame_ledger_transfer(struct frame_ledger *l, struct frame_account *from,
                                     struct frame_account *to, uint64_t n)
{
    if (!is_open_on(l, from) || !is_open_on(l, to))
        return FL_ERR_NOT_OPEN;
    if (n > from->held)
        return FL_ERR_UNDERFLOW;
    if (from == to)
        return FL_OK; /* the frames stay where they are */
    if (!fits_quota(to, n))
        return FL_ERR_QUOTA;
    from->held -= n;
    to->held += n; /* the total does not change */
    return FL_OK;
}

void frame_ledger_set_quota(struct frame_account *a, uint64_t quota)
{
    a->quota = quota;
}

uint64_t frame_account_room(const struct frame_account *a)
{
    return a->held < a->quota ? a->quota - a->held : 0;
}

bool frame_account_balanced(const struct frame_account *a)
{
    return a->held == 0;
}

enum fl_status frame_ledger_audit(const struct frame_ledger *l)
{
    uint64_t sum = 0;
    uint32_t count = 0;
    const struct frame_account *prev = NULL;
    for (const struct frame_account *a = l->head; a; a = a->next) {
        /* The prev check also ends the walk on a cycle: a node reached a
         * second time is reached from a different predecessor. */
        if (a->ledger != l || a->prev != prev)
            return FL_ERR_CORRUPT;
        if (a->held > UINT64_MAX - sum)
            return FL_ERR_CORRUPT;
        sum += a->held;
        count++;
        prev = a;
    }
    if (sum != l->total || count != l->accounts)
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
        return "frame total overflow";
    case FL_ERR_NOT_BALANCED:
        return "account still holds frames";
    case FL_ERR_NOT_OPEN:
        return "account not open";
    case FL_ERR_ALREADY_OPEN:
        return "account already open";
    case FL_ERR_CORRUPT:
        return "ledger does not balance";
    }
    return "unknown status";
}
