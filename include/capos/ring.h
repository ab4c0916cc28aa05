/*
 * The capability ring: the one shared page through which a process makes
 * every capability call (docs/abi.md). Shared by the kernel and userspace;
 * every size and offset is fixed by static assertions below.
 *
 * Userspace writes SQEs and advances sq_tail; the kernel consumes them in
 * cap_enter, advances sq_head, writes CQEs and advances cq_tail; userspace
 * reads CQEs and advances cq_head. Indices are free-running 32-bit counters,
 * masked on use. The kernel trusts none of it: the whole page is writable
 * by a possibly hostile process.
 */
#ifndef CAPOS_RING_H
#define CAPOS_RING_H

#include <stdint.h>

#define CAPOS_SQ_ENTRIES 16u
#define CAPOS_CQ_ENTRIES 32u
#define CAPOS_SQ_MASK    (CAPOS_SQ_ENTRIES - 1)
#define CAPOS_CQ_MASK    (CAPOS_CQ_ENTRIES - 1)
/* CQ slots only RELEASE and CANCEL may take: other SQEs wait in the SQ
 * once no more than these are free, so that a CQ full of pending calls can
 * always release and cancel (docs/abi.md). */
#define CAPOS_CQ_CONTROL_SLOTS 2u

/* Opcodes. 0 is deliberately invalid so that a zeroed SQE is an error. */
enum capos_op {
    CAPOS_OP_NOP = 1,
    CAPOS_OP_CALL = 2,    /* invoke a method of a capability */
    CAPOS_OP_RECV = 3,    /* wait for a CALL on an endpoint this process owns */
    CAPOS_OP_RETURN = 4,  /* answer a received CALL (call_id) */
    CAPOS_OP_RELEASE = 5, /* drop a capability-table slot */
    CAPOS_OP_FINISH = 6,  /* reserved: completes with CAPOS_E_RESERVED_OPCODE */
    CAPOS_OP_CANCEL = 7,  /* cancel this process's pending CALL or RECV (target_user_data) */
    /* RETURN call_id, then RECV on the same endpoint, as one entry: a
     * server's steady state in one ring operation instead of two. */
    CAPOS_OP_RETURN_RECV = 8,
    /* Not an opcode: one past the last. Tables indexed by opcode have this
     * many rows and say so in a static assertion, so a new opcode cannot be
     * added without a row in each (lib/kcore/ring_opdef.c, kernel/ringops.c). */
    CAPOS_OP_COUNT,
};

/* SQE flags. Any other bit set is an error (CAPOS_E_BAD_FLAGS), and so is
 * a flag on an opcode it does not apply to. */
#define CAPOS_SQE_F_NONE 0u
/* RETURN, RETURN_RECV: the params are a CapException, not results; the caller's CQE
 * gets CAPOS_CQE_F_EXCEPTION. */
#define CAPOS_SQE_F_EXCEPTION (1u << 0)
/* RECV, RETURN_RECV: this RECV may also complete, without a call, with
 * CAPOS_CQE_F_CLIENTS_GONE once no client reference to the endpoint is
 * left (docs/ipc.md, "Clients gone"). Opt-in, so that servers that do not
 * know the notification never see it. */
#define CAPOS_SQE_F_CLIENTS_GONE (1u << 1)
/* CALL, RETURN, RETURN_RECV: one transfer descriptor carried in the entry itself:
 * xfer_count is 1 and xfer_addr is the struct capos_xfer's 8 bytes
 * (capos_xfer_inline), not its address. Most transfers move or copy one
 * capability; this spares the kernel reading user memory for it. */
#define CAPOS_SQE_F_XFER_INLINE (1u << 2)
#define CAPOS_SQE_F_VALID_MASK                                                                     \
    (CAPOS_SQE_F_EXCEPTION | CAPOS_SQE_F_CLIENTS_GONE | CAPOS_SQE_F_XFER_INLINE)

/* Submission entry, 64 bytes. */
struct capos_sqe {
    uint8_t opcode;  /* enum capos_op */
    uint8_t flags;   /* CAPOS_SQE_F_* */
    uint16_t method; /* method ordinal (CALL) */
    uint32_t cap;    /* capability id (CALL, RECV, RELEASE) */
    union {
        uint64_t interface_id;     /* Cap'n Proto interface id the caller expects (CALL) */
        uint64_t target_user_data; /* CANCEL: the user_data of the operation to cancel */
    };
    uint64_t params_addr; /* Cap'n Proto message, standard framing (CALL, RETURN) */
    uint32_t params_len;
    uint32_t result_len;  /* capacity of the result buffer */
    uint64_t result_addr; /* where the result message lands (CALL, RECV) */
    uint64_t user_data;   /* echoed in the CQE */
    uint32_t call_id;     /* RETURN: the call being answered */
    uint16_t xfer_count;  /* number of struct capos_xfer at xfer_addr */
    uint16_t reserved;    /* must be 0 */
    uint64_t xfer_addr;
};

/* Completion entry, 32 bytes. */
struct capos_cqe {
    uint64_t user_data;
    int32_t result;      /* >= 0: success; < 0: a CAPOS_E_* transport error */
    uint32_t flags;      /* CAPOS_CQE_F_* */
    uint32_t result_len; /* bytes written to the result buffer */
    uint32_t call_id;    /* RECV: id to RETURN with */
    uint16_t cap_count;  /* capabilities received (result-capability records) */
    uint16_t reserved0;
    uint32_t reserved1;
};

/* The result buffer holds a serialized CapException, not a result; the
 * CQE's result is then CAPOS_RESULT_EXCEPTION. */
#define CAPOS_CQE_F_EXCEPTION  (1u << 0)
#define CAPOS_RESULT_EXCEPTION 1
/* RETURN_RECV: the RETURN failed (result is its error, as a RETURN's CQE
 * would have it) and no RECV was started; the server's next RECV must be
 * submitted anew. */
#define CAPOS_CQE_F_RETURN_FAILED (1u << 2)
/* A RECV that asked for it (CAPOS_SQE_F_CLIENTS_GONE) completed with no
 * call: every client reference to the endpoint (capabilities, wrappers,
 * capabilities in transit) is gone. result 0, call_id 0 (never a call's),
 * result_len 0, nothing written to the buffer. Calls already received may
 * still be answered. */
#define CAPOS_CQE_F_CLIENTS_GONE (1u << 1)

/*
 * A completed CALL's result buffer: the framed result message
 * (cqe.result_len bytes), then, at the next 8-byte boundary, cqe.cap_count
 * struct capos_cap_record, one per capability in the message's capability
 * table (capability pointer i is record i).
 */
#define CAPOS_CAP_RECORDS_OFFSET(result_len) (((result_len) + 7u) & ~7u)

/* Kernel-set status bits in the ring header (sticky until cleared by
 * userspace writing 0; the kernel only ever sets them). */
#define CAPOS_RING_SQ_CORRUPT (1u << 0) /* sq_tail was more than 16 ahead; reset */
#define CAPOS_RING_CQ_CORRUPT (1u << 1) /* cq_head was inconsistent; reset */
#define CAPOS_RING_CQ_FULL    (1u << 2) /* SQEs left unconsumed: the CQ was full */

/* ABI limits, checked on every SQE (CAPOS_E_TOO_LARGE above them). */
#define CAPOS_MAX_PARAMS_LEN 65536u /* params (CALL) or result message (RETURN), bytes */
#define CAPOS_MAX_RESULT_LEN 65536u /* result buffer capacity (CALL, RECV), bytes */
#define CAPOS_MAX_XFER       16u    /* transfer descriptors per CALL or RETURN */

/* Capability transfer descriptor (CALL and RETURN). */
struct capos_xfer {
    uint32_t cap;  /* sender's capability id */
    uint32_t mode; /* CAPOS_XFER_COPY or CAPOS_XFER_MOVE */
};
#define CAPOS_XFER_COPY 1u
#define CAPOS_XFER_MOVE 2u

/* The xfer_addr word of an SQE with CAPOS_SQE_F_XFER_INLINE: the
 * descriptor's two fields as the 8 bytes of struct capos_xfer (x86_64 is
 * little-endian: cap in the low half, mode in the high). */
static inline uint64_t capos_xfer_inline(uint32_t cap, uint32_t mode)
{
    return (uint64_t)mode << 32 | cap;
}

/*
 * What a completed RECV writes to its result buffer: this header, then
 * cap_count struct capos_cap_record (capabilities that came with the call,
 * already in the receiver's table; capability pointer i of the params is
 * record i), then the params message at header->params_offset. The CQE's
 * call_id is the id to RETURN with.
 */
struct capos_recv_header {
    uint32_t call_id;
    uint16_t method;
    uint16_t cap_count;
    uint64_t interface_id;
    /* Opaque caller-session reference: stable for one client session and
     * this endpoint, different across endpoints, meaningless elsewhere. */
    uint8_t session[16];
    uint32_t session_epoch;
    uint32_t params_len;
    uint32_t params_offset; /* from the start of the header; 8-aligned */
    uint32_t reserved;
};

/* A received capability, as reported in a result or a RECV. */
struct capos_cap_record {
    uint32_t cap; /* the receiver's new capability id */
    uint32_t reserved;
    uint64_t interface_id;
};

/*
 * The ring page. Kernel-written and user-written indices sit in separate
 * cache lines so that neither side's stores bounce the other's line.
 */
struct capos_ring {
    /* Written by the kernel. */
    uint32_t sq_head;
    uint32_t cq_tail;
    uint32_t status; /* CAPOS_RING_* bits */
    uint32_t cq_overflow_count;
    uint8_t pad0[48];
    /* Written by userspace. */
    uint32_t sq_tail;
    uint32_t cq_head;
    uint8_t pad1[56];
    uint8_t pad2[128];
    struct capos_sqe sq[CAPOS_SQ_ENTRIES];
    struct capos_cqe cq[CAPOS_CQ_ENTRIES];
};

#define CAPOS_RING_SQ_OFFSET 256
#define CAPOS_RING_CQ_OFFSET (CAPOS_RING_SQ_OFFSET + 64 * CAPOS_SQ_ENTRIES)

_Static_assert(sizeof(struct capos_sqe) == 64, "SQE is 64 bytes");
_Static_assert(sizeof(struct capos_cqe) == 32, "CQE is 32 bytes");
_Static_assert(sizeof(struct capos_xfer) == 8, "transfer descriptor");
_Static_assert(sizeof(struct capos_cap_record) == 16, "result-capability record");
_Static_assert(sizeof(struct capos_recv_header) == 48, "RECV header");
_Static_assert(__builtin_offsetof(struct capos_recv_header, session) == 16, "RECV header layout");
_Static_assert(__builtin_offsetof(struct capos_recv_header, params_len) == 36,
               "RECV header layout");
_Static_assert(__builtin_offsetof(struct capos_sqe, interface_id) == 8, "SQE layout");
_Static_assert(__builtin_offsetof(struct capos_sqe, params_addr) == 16, "SQE layout");
_Static_assert(__builtin_offsetof(struct capos_sqe, result_addr) == 32, "SQE layout");
_Static_assert(__builtin_offsetof(struct capos_sqe, user_data) == 40, "SQE layout");
_Static_assert(__builtin_offsetof(struct capos_sqe, call_id) == 48, "SQE layout");
_Static_assert(__builtin_offsetof(struct capos_sqe, xfer_addr) == 56, "SQE layout");
_Static_assert(__builtin_offsetof(struct capos_cqe, result) == 8, "CQE layout");
_Static_assert(__builtin_offsetof(struct capos_cqe, result_len) == 16, "CQE layout");
_Static_assert(__builtin_offsetof(struct capos_cqe, cap_count) == 24, "CQE layout");
_Static_assert(__builtin_offsetof(struct capos_ring, sq_tail) == 64, "ring header layout");
_Static_assert(__builtin_offsetof(struct capos_ring, sq) == CAPOS_RING_SQ_OFFSET, "SQ offset");
_Static_assert(__builtin_offsetof(struct capos_ring, cq) == CAPOS_RING_CQ_OFFSET, "CQ offset");
_Static_assert(sizeof(struct capos_ring) <= 4096, "the ring fits one page");

#endif
