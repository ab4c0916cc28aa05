/*
 * Host tests of the RPC engine: a fake host (capabilities, reference
 * counts, captured output) and a peer that builds rpc.capnp messages with
 * lib/capnp, as a client would send them.
 */
#ifndef CAPOS_TESTS_RPC_PEER_H
#define CAPOS_TESTS_RPC_PEER_H

#include "rpc.capnp.h"
#include "rpc/rpc.h"

#define FAKE_OBJS 16
#define FAKE_OUT  (1u << 20)
#define FAKE_MSGS 2048

/* The fake host. Every call returns a struct with one data word
 * (handle * 100 + method) and two pointers: the params' first pointer
 * copied as text, and capability 0, a handle one above the target's
 * (until FAKE_OBJS - 1). With `defer` set calls are recorded, not
 * answered. */
struct fake {
    struct rpc_conn *c;
    uint8_t *out;
    size_t out_len;
    size_t off[FAKE_MSGS];
    uint32_t nmsgs;
    int refs[FAKE_OBJS]; /* references the engine holds */
    int bad_release;     /* releases of a handle it did not hold */
    uint32_t boot;
    bool defer;
    bool fail_send;
    const char *fail_why; /* fail_send: the reason the host gives (in c->why) */
    uint32_t tokens[64];
    uint32_t targets[64];
    uint32_t ntokens;
    uint32_t ncalls;
    uint32_t last_target;
    uint16_t last_method;
    uint32_t last_ncaps;
    bool last_pipelined;
    char last_text[64];
};

struct fake *fake_new(const struct rpc_limits *lim);
void fake_free(struct fake *f);
/* Answer recorded call i the way an immediate call would have been. */
void fake_answer(struct fake *f, uint32_t i);

/* A message the engine sent, read back. */
struct sent {
    struct capn_seg segs[16];
    struct capn_msg m;
    Message_r msg;
};
enum Message_which fake_sent(struct fake *f, uint32_t i, struct sent *s);
/* The index of the last message sent, or UINT32_MAX. */
uint32_t fake_last(const struct fake *f);

/* ---- The peer's messages: framed into buf, size returned ---- */
#define PEER_BUF   4096
#define PEER_IFACE UINT64_C(0x1234)
/* The interface id peer_call and peer_call_promise put in calls. */
extern uint64_t peer_iface;
size_t peer_bootstrap(uint8_t *buf, uint32_t qid);
/* A call on export `id`, params a struct whose first pointer is `text`. */
size_t peer_call(uint8_t *buf, uint32_t qid, uint32_t id, uint16_t method, const char *text);
/* A call on question `target`'s results at path[0..n). */
size_t peer_call_promise(uint8_t *buf, uint32_t qid, uint32_t target, const uint16_t *path,
                         uint32_t n, uint16_t method, const char *text);
size_t peer_finish(uint8_t *buf, uint32_t qid, bool release_caps);
size_t peer_release(uint8_t *buf, uint32_t id, uint32_t count);

/* Feed a whole buffer; returns the state. */
enum rpc_state feed(struct fake *f, const uint8_t *buf, size_t len);

/* The reason of exception Return i (or of Abort i), "" if it is neither. */
const char *sent_reason(struct fake *f, uint32_t i);

#endif
