/* Endpoints: IPC between processes (docs/ipc.md). */
#ifndef CAPOS_ENDPOINT_H
#define CAPOS_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

struct account;
struct kobject;

#define ENDPOINT_MAX_QUEUED     128 /* CALLs waiting for a RECV, per endpoint */
#define PROCESS_MAX_OUTSTANDING 32  /* CALLs a process has in flight (= its CQ slots) */

/*
 * A new endpoint (its capabilities carry the interface it serves). *owner
 * is the side that may RECV and RETURN (also CALL); *client is a facet that
 * may only CALL. Each comes with one reference. Paid for by account a;
 * false when it cannot pay.
 */
bool endpoint_create(struct account *a, struct kobject **owner, struct kobject **client);

bool endpoint_is_owner(const struct kobject *obj);
/* The client facet of an owner capability's endpoint (no new reference). */
struct kobject *endpoint_client_of(struct kobject *owner);

#endif
