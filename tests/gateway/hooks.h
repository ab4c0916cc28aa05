/*
 * The book's hooks (user/services/remote-gateway/book.h) for host tests:
 * capability slots handed out and released, logouts counted, so that a
 * test can say which slot went twice or never, and which session was
 * logged out twice.
 */
#ifndef CAPOS_TESTS_GATEWAY_HOOKS_H
#define CAPOS_TESTS_GATEWAY_HOOKS_H

#include "book.h"

#define HOOK_SLOTS 4096

struct hooks {
    uint32_t next_slot;       /* slots are 1, 2, ... */
    uint8_t live[HOOK_SLOTS]; /* handed to the book and not yet released */
    uint32_t double_release;  /* releases of a slot not live */
    uint32_t logouts;         /* gw_hook_logout calls */
    uint32_t logout_twice;    /* of a session already logged out */
    uint32_t logout_unknown;  /* of a session no login named */
    uint32_t next_serial;     /* sessions are 1, 2, ... (in their id) */
    uint8_t out[HOOK_SLOTS];  /* serial: logged out */
};
extern struct hooks hk;

/* Forget the book and the hooks. */
void hooks_reset(void);
/* A new live slot. */
uint32_t hooks_slot(void);
/* Slots handed out and not released. */
uint32_t hooks_live(void);
/* A session the session manager let in: a serial in its id, as the
 * gateway copies the session id there. */
void hooks_login(uint32_t sess);

#endif
