/*
 * Transport errors: negative CQE results and system call returns. They say
 * the call could not be delivered or completed as a call; errors a method
 * itself reports travel as a CapException or in its result union.
 */
#ifndef CAPOS_ERRORS_H
#define CAPOS_ERRORS_H

enum capos_error {
    CAPOS_OK = 0,
    CAPOS_E_BAD_OPCODE = -1,      /* unknown opcode (or 0) */
    CAPOS_E_RESERVED_OPCODE = -2, /* defined but not available (FINISH) */
    CAPOS_E_BAD_FLAGS = -3,       /* unknown SQE flag bits, or reserved fields not 0 */
    CAPOS_E_BAD_CAP = -4,         /* no such capability (free slot, stale generation) */
    CAPOS_E_WRONG_INTERFACE = -5, /* the capability does not implement interface_id */
    CAPOS_E_BAD_METHOD = -6,      /* no such method ordinal on the interface */
    CAPOS_E_BAD_ADDRESS = -7,     /* a buffer not in the user half, unmapped, or wrong permission */
    CAPOS_E_TOO_LARGE = -8,       /* a length above the ABI limit */
    CAPOS_E_BAD_MESSAGE = -9,     /* params are not a well-formed message for the method */
    CAPOS_E_RESULT_TOO_SMALL = -10, /* result buffer cannot hold the result */
    CAPOS_E_NO_SPACE = -11,         /* capability table, queue or quota exhausted */
    CAPOS_E_BAD_TRANSFER = -12,     /* malformed or impossible transfer descriptor */
    CAPOS_E_BAD_CALL_ID = -13,      /* RETURN for a call that is not outstanding */
    CAPOS_E_NOT_PERMITTED = -14,    /* operation not allowed on this facet (RECV on a client) */
    CAPOS_E_DISCONNECTED = -15,     /* the other side is gone */
    CAPOS_E_NO_SYSCALL = -16,       /* unknown system call number */
    CAPOS_E_TIMED_OUT = -17,        /* cap_enter's timeout passed first */
    CAPOS_E_INTERNAL = -18,         /* kernel out of memory for bookkeeping */
    CAPOS_E_CANCELLED = -19,        /* the operation was cancelled (CANCEL) before it completed */
    CAPOS_E_NOT_FOUND = -20,        /* CANCEL: no pending CALL or RECV has that user_data */
    CAPOS_E_MOVING = -21, /* the capability is being moved (its move waits in an endpoint queue) */
    CAPOS_E_NO_MEMORY = -22, /* the caller's frame quota cannot pay for the kernel memory needed */
};

#endif
