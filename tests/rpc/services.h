/*
 * The gateway harness's stand-ins for the guest's capabilities: a
 * RemoteLogin, the RemoteSessions it issues, and each session's bundle
 * (SystemInfo and Chat for an operator, SystemInfo for a guest), served
 * with capnpc-c's dispatch tables. One chat board is shared by every
 * connection, as the guest's chat service is.
 */
#ifndef CAPOS_TESTS_RPC_SERVICES_H
#define CAPOS_TESTS_RPC_SERVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "capnp/capnp.h"

#define SVC_CAPS 8

enum svc_outcome { SVC_RESULTS, SVC_EXCEPTION };

struct svc_reply {
    uint32_t caps[SVC_CAPS]; /* handles, one reference each */
    uint32_t ncaps;
    int exc_type; /* enum rpc_exc, for SVC_EXCEPTION */
    char reason[160];
    uint32_t delay_ms; /* answer this much later (login throttling) */
};

void svc_init(const char *password, uint32_t login_delay_ms);
void svc_conn_open(int conn, const char *peer);
/* The connection is gone: log its sessions out (their capabilities answer
 * `disconnected` from now on). */
void svc_conn_closed(int conn);
/* RemoteLogin, one reference. */
uint32_t svc_bootstrap(int conn);
void svc_release(uint32_t handle);
/* Serve one call; results go to `results` (a fresh builder). */
enum svc_outcome svc_call(int conn, uint32_t handle, uint64_t iface, uint16_t method,
                          struct capn_msg *params, struct capn_bld *results, struct svc_reply *r);
/* Objects alive (for the leak check at exit). */
uint32_t svc_live(void);

#endif
