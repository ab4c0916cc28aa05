/* The book's hooks for host tests (hooks.h). */
#include "hooks.h"

#include <string.h>

struct hooks hk;

void hooks_reset(void)
{
    gw_book_reset();
    memset(&hk, 0, sizeof(hk));
}

uint32_t hooks_slot(void)
{
    uint32_t s = ++hk.next_slot % HOOK_SLOTS;
    if (s == 0)
        s = ++hk.next_slot % HOOK_SLOTS;
    hk.live[s] = 1;
    return s;
}

uint32_t hooks_live(void)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < HOOK_SLOTS; i++)
        n += hk.live[i];
    return n;
}

void gw_hook_release_slot(uint32_t slot)
{
    if (slot >= HOOK_SLOTS || !hk.live[slot])
        hk.double_release++;
    else
        hk.live[slot] = 0;
}

void hooks_login(uint32_t sess)
{
    struct gw_session *ss = gw_session_get(sess);
    uint32_t serial = ++hk.next_serial % HOOK_SLOTS;
    if (ss)
        memcpy(ss->id, &serial, sizeof(serial));
}

void gw_hook_logout(struct gw_session *ss, const char *why)
{
    (void)why;
    uint32_t serial;
    memcpy(&serial, ss->id, sizeof(serial));
    hk.logouts++;
    if (serial == 0 || serial >= HOOK_SLOTS)
        hk.logout_unknown++;
    else if (hk.out[serial]++)
        hk.logout_twice++;
    ss->link = 0;
}
