/*
 * What the session services in user/services/ share: finding their
 * capabilities, the server loop, checks of hostile input, and wiping.
 * Defined in svc.c, which every program of user/services/ links
 * (USER_SHARED_services, mk/link.mk).
 *
 * The server loop is capos_serve (user/rt/server.c), which releases the
 * capabilities a call brings (no session method adopts one) and result
 * capabilities that could not be delivered, with two of its options on:
 *
 * - The lifetime link. A service whose CapSet has "lifetime" (an Echo
 *   client, user/services/lifetime.c) keeps one call on it that is never
 *   answered, and exits when that call completes, which happens when the
 *   lifetime service ends. Test systems use it to stop resident services
 *   so that the kernel can halt; the default system grants no lifetime and
 *   the services run until the machine stops.
 * - The received message is wiped after the call: it may hold a password.
 */
#ifndef CAPOS_SERVICES_SVC_H
#define CAPOS_SERVICES_SVC_H

#include "capos_rt.h"

#include <string.h>

#include "capnp/capnpc_rt.h"
#include "capos.capnp.h"
#include "text/fmt.h"

/* The program's name, for messages ("audit-log: ..."); main sets it. */
extern const char *svc_name;

/* Zero memory in a way the compiler cannot drop as a dead store. */
void svc_wipe(void *p, size_t n);

/* a[0..n) == b[0..n), reading every byte whatever they hold (lib/crypto/ct.c
 * is linked into the credential store only). */
bool svc_ct_eq(const void *a, const void *b, size_t n);

/* The name of interface `id` ("?" if unknown). */

/* The capability `name` of interface `iface`, or exit with a message that
 * says what was missing. */
uint32_t svc_need(const char *name, uint64_t iface);

/* ---- Checks of what clients send ---- */

/* A user name: 1..31 bytes of ASCII letters, digits, '_', '.' and '-',
 * and UTF-8 characters from U+00A1 on (letters of other alphabets; there
 * is no table here to tell letters from symbols above ASCII, and nothing
 * else there is a control or a space that would hide in a log). */
#define SVC_USER_MAX 31
#define SVC_USER_RULE                                                                              \
    "a user name is 1..31 bytes of letters (UTF-8 is fine), digits, '_', '.' or '-'"

bool svc_user_ok(const char *s, uint32_t len);

/* The names of profiles ("anonymous", "guest", "operator", in any ASCII
 * case): no account may take one, so that a prompt or a log line that
 * shows a name cannot be mistaken for a profile. */
bool svc_user_reserved(const char *s, uint32_t len);

/* Passwords: 1..128 bytes, anything. */
#define SVC_PASSWORD_MAX  128
#define SVC_PASSWORD_RULE "a password is 1..128 bytes"

/* Copy at most max bytes of s into out (NUL-terminated, max + 1 bytes),
 * never cutting a UTF-8 sequence and turning control characters into '?',
 * so that what is stored can be printed on a terminal safely. Returns the
 * length. */
uint32_t svc_clean_copy(char *out, uint32_t max, const char *s, uint32_t len);

/* ---- Calls to other services ---- */

/* The CapException type of a failed call (rc from a stub), or -1 for a
 * transport error (then *msg says so). */
int svc_failure(int rc, struct capnpc_call *c, struct capn_text *msg);

/* Fail the current call with a formatted message (kept until the reply is
 * built, which happens after the handler returns). Returns CAPNPC_OK. */
__attribute__((format(printf, 3, 4))) int svc_fail(void *ctx, int type, const char *fmt, ...);

/* Call after reading every field of the params: a malformed pointer reads
 * as the field's default, and acting on defaults would be acting on
 * garbage. False (and the call failed) if the message had an error. */
bool svc_params_ok(void *ctx, struct capn_struct s);

/* False (and the call failed with the reason) unless a user name and a
 * password are within the rules; `what` names the method. */
bool svc_credentials_ok(void *ctx, const char *what, struct capn_text user, struct capn_text pw);

/* ---- The server loop ---- */

/* Serve srv->endpoint with capos_serve, wiping every message after its
 * call, until the lifetime link ends (returns 0), a handler sets
 * srv->stop (0), or the endpoint fails (the CAPOS_E_* of the RECV). */
int svc_serve(struct capos_server *srv);

#endif
