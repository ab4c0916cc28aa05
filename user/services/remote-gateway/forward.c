/*
 * Ring calls in flight for the connections (ops), and the forwarding of a
 * remote call on a real capability: a ring CALL on the slot with the
 * interface id, method and params exactly as the engine copied them out
 * (a standalone framed message is the ring's format too), answered later
 * with the results and the capabilities the CQE brought, or with the
 * CapException (or transport error) as an RPC exception.
 */
#include "gateway.h"

static struct gw_op ops[GW_OPS];
static uint8_t results[GW_OPS][GW_RESULT_BUF] __attribute__((aligned(8)));
static uint32_t op_gen;

void gw_ops_init(void)
{
    for (uint32_t i = 0; i < GW_OPS; i++)
        ops[i].results = results[i];
}

struct gw_op *gw_op_get(enum gw_op_kind kind, struct gw_conn *k, uint32_t answer)
{
    for (uint32_t i = 0; i < GW_OPS; i++) {
        struct gw_op *op = &ops[i];
        if (op->used)
            continue;
        if (!gw_op_charge(k ? (uint32_t)(k - gw_conns) : UINT32_MAX))
            return 0; /* the connection has its share */
        uint8_t *buf = op->results;
        memset(op, 0, sizeof(*op));
        op->results = buf;
        op->used = true;
        op->kind = (uint8_t)kind;
        op->gen = ++op_gen;
        op->conn = k ? (uint32_t)(k - gw_conns) : UINT32_MAX;
        op->conn_gen = k ? k->gen : 0;
        op->answer = answer;
        return op;
    }
    return 0;
}

void gw_op_put(struct gw_op *op)
{
    gw_op_uncharge(op->conn);
    if (op->kind == GW_OP_FORWARD)
        gw_session_unpin(op->sess);
    if (op->params)
        capos_free(op->params);
    op->params = 0;
    /* Our own calls' params may have held a password. */
    memset(op->small, 0, sizeof(op->small));
    op->used = false;
}

uint64_t gw_op_ud(const struct gw_op *op)
{
    return gw_ud(GW_UD_OP, (uint32_t)(op - ops), op->gen);
}

/* What a person reads for a transport error of a forwarded call. */
static const char *transport_reason(int rc, enum rpc_exc *type)
{
    *type = RPC_EXC_FAILED;
    switch (rc) {
    case CAPOS_E_DISCONNECTED:
        *type = RPC_EXC_DISCONNECTED;
        return "disconnected: the capability's server is gone";
    case CAPOS_E_BAD_CAP:
        *type = RPC_EXC_DISCONNECTED;
        return "disconnected: the gateway no longer holds this capability";
    case CAPOS_E_WRONG_INTERFACE:
        *type = RPC_EXC_UNIMPL;
        return "the capability does not implement this interface";
    case CAPOS_E_BAD_METHOD:
        *type = RPC_EXC_UNIMPL;
        return "the interface has no method of this number";
    case CAPOS_E_BAD_MESSAGE:
        return "the params are not a well-formed message for this method";
    case CAPOS_E_TOO_LARGE:
        return "the params or results are over the ring's limit of 64 KiB";
    case CAPOS_E_RESULT_TOO_SMALL:
        return "the results are larger than the gateway can forward (64 KiB)";
    case CAPOS_E_NO_SPACE:
    case CAPOS_E_NO_MEMORY:
        *type = RPC_EXC_OVERLOADED;
        return "overloaded: the gateway has no room for the capabilities of these results";
    default:
        return 0;
    }
}

void gw_throw_failure(struct rpc_conn *rpc, uint32_t answer, int rc, const void *buf, size_t len)
{
    char why[RPC_REASON_MAX];
    enum rpc_exc type = RPC_EXC_FAILED;
    if (rc < 0) {
        const char *r = transport_reason(rc, &type);
        if (r)
            fmt_snprintf(why, sizeof(why), "%s", r);
        else
            fmt_snprintf(why, sizeof(why), "the call failed in the guest (transport error %d)", rc);
        rpc_conn_throw(rpc, answer, type, why);
        return;
    }
    /* A CapException: its type maps onto rpc.capnp's four; the ones RPC
     * lacks (permissionDenied, notFound, invalidArgument) are `failed`
     * with the type named in the reason, so nothing is lost. */
    struct capn_seg segs[4];
    struct capn_msg m;
    struct capn_struct root;
    if (capn_msg_read(&m, segs, 4, buf, len, NULL) != CAPN_OK ||
        capn_msg_root_struct(&m, &root) != CAPN_PT_STRUCT) {
        rpc_conn_throw(rpc, answer, RPC_EXC_FAILED,
                       "the capability failed with a malformed exception");
        return;
    }
    CapException_r ex = {root};
    int t = CapException_get_type(ex);
    struct capn_text msg = CapException_get_message(ex);
    int n = !msg.str ? 0 : msg.len < RPC_REASON_MAX ? (int)msg.len : (int)RPC_REASON_MAX;
    switch (t) {
    case CapException_Type_overloaded:
        type = RPC_EXC_OVERLOADED;
        break;
    case CapException_Type_disconnected:
        type = RPC_EXC_DISCONNECTED;
        break;
    case CapException_Type_unimplemented:
        type = RPC_EXC_UNIMPL;
        break;
    default:
        type = RPC_EXC_FAILED;
        break;
    }
    if (type == RPC_EXC_FAILED && t != CapException_Type_failed && t >= 0 &&
        t < CapException_Type_COUNT)
        fmt_snprintf(why, sizeof(why), "%s: %.*s", CapException_Type_NAMES[t], n,
                     msg.str ? msg.str : "");
    else
        fmt_snprintf(why, sizeof(why), "%.*s", n, msg.str ? msg.str : "");
    rpc_conn_throw(rpc, answer, type, why);
}

void gw_forward(struct gw_conn *k, const struct rpc_call *call, const struct gw_ref *r)
{
    struct rpc_conn *rpc = &k->rpc;
    struct capos_xfer xfer[CAPOS_MAX_XFER] = {{0}};
    if (call->ncaps > CAPOS_MAX_XFER) {
        rpc_conn_throw(rpc, call->answer, RPC_EXC_FAILED,
                       "the params carry more than 16 capabilities");
        return;
    }
    for (uint32_t i = 0; i < call->ncaps; i++) {
        const struct rpc_cap *c = &call->caps[i];
        const struct gw_ref *cr = c->kind == RPC_CAP_LOCAL ? gw_ref_get(c->id) : 0;
        if (c->kind == RPC_CAP_NONE) {
            rpc_conn_throw(rpc, call->answer, RPC_EXC_FAILED,
                           "a null capability in the params cannot be passed into capOS");
            return;
        }
        if (!cr || cr->kind != GW_REAL) {
            /* The client's own objects cannot be called back at level 1,
             * and RemoteLogin/RemoteSession exist only in the gateway. */
            rpc_conn_throw(rpc, call->answer, RPC_EXC_UNIMPL,
                           "only capabilities of capOS may be passed into a capOS call, not "
                           "the client's own or the gateway's session objects");
            return;
        }
        xfer[i] = (struct capos_xfer){.cap = cr->slot, .mode = CAPOS_XFER_COPY};
    }
    struct gw_op *op = gw_op_get(GW_OP_FORWARD, k, call->answer);
    if (!op) {
        char why[RPC_REASON_MAX];
        fmt_snprintf(why, sizeof(why),
                     "overloaded: this connection has %u calls in flight, or the gateway %u; "
                     "try again",
                     GW_CONN_OPS, GW_OPS);
        rpc_conn_throw(rpc, call->answer, RPC_EXC_OVERLOADED, why);
        return;
    }
    /* The kernel reads the params when it takes the SQE, which may be
     * after this returns (the SQ waits while the CQ is full), and the
     * engine's copy is valid only during this call. */
    op->params = capos_malloc(call->params_len ? call->params_len : 8);
    if (!op->params) {
        gw_op_put(op);
        rpc_conn_throw(rpc, call->answer, RPC_EXC_OVERLOADED,
                       "overloaded: the gateway is out of memory for the params");
        return;
    }
    memcpy(op->params, call->params, call->params_len);
    op->sess = r->sess;
    gw_session_pin(op->sess); /* its results will be handles of this session */
    struct capos_sqe sqe = {
        .opcode = CAPOS_OP_CALL,
        .method = call->method,
        .cap = r->slot,
        .interface_id = call->interface_id,
        .params_addr = (uint64_t)op->params,
        .params_len = (uint32_t)call->params_len,
        .result_addr = (uint64_t)op->results,
        .result_len = GW_RESULT_BUF,
        .user_data = gw_op_ud(op),
    };
    if (!capos_ring_submit_xfer(&sqe, xfer, call->ncaps)) {
        gw_op_put(op);
        rpc_conn_throw(rpc, call->answer, RPC_EXC_OVERLOADED,
                       "overloaded: the gateway's ring is full");
    }
}

/* A forwarded call completed: results (with their capabilities as new
 * handles of the caller's session) or an exception. */
static void forward_done(struct gw_op *op, const struct capos_cqe *cqe)
{
    const struct capos_cap_record *rec =
        (const void *)(op->results + CAPOS_CAP_RECORDS_OFFSET(cqe->result_len));
    uint32_t ncaps = cqe->result >= 0 ? cqe->cap_count : 0;
    if (ncaps > CAPOS_MAX_XFER || (cqe->result >= 0 && cqe->result_len > CAPOS_MAX_RESULT_LEN)) {
        ncaps = 0; /* cannot happen with the kernel's limits; refuse rather than read past */
    }
    struct gw_conn *k = gw_conn_live(op->conn, op->conn_gen);
    uint32_t handles[CAPOS_MAX_XFER];
    bool ok = k != 0;
    for (uint32_t i = 0; i < ncaps; i++) {
        handles[i] = ok ? gw_ref_new(GW_REAL, op->conn, op->sess, rec[i].cap) : RPC_NO_CAP;
        if (handles[i] == RPC_NO_CAP) {
            capos_release(rec[i].cap);
            ok = false;
        }
    }
    if (!k) {
        /* The connection ended: nobody to answer, nothing to keep. */
        for (uint32_t i = 0; i < ncaps; i++)
            if (handles[i] != RPC_NO_CAP)
                gw_ref_release(handles[i]);
        return;
    }
    if (!ok) {
        for (uint32_t i = 0; i < ncaps; i++)
            if (handles[i] != RPC_NO_CAP)
                gw_ref_release(handles[i]);
        rpc_conn_throw(&k->rpc, op->answer, RPC_EXC_OVERLOADED,
                       "overloaded: the gateway has no room for more capabilities");
        return;
    }
    if (cqe->result < 0 || (cqe->flags & CAPOS_CQE_F_EXCEPTION)) {
        gw_throw_failure(&k->rpc, op->answer, cqe->result < 0 ? cqe->result : 0, op->results,
                         cqe->result_len);
        return;
    }
    if (cqe->result_len == 0) {
        /* All-default results: an empty struct, framed. */
        static const uint64_t empty[2] = {0, 0};
        uint32_t hdr[2] = {0, 1};
        uint8_t frame[16];
        memcpy(frame, hdr, 8);
        memcpy(frame + 8, &empty[0], 8);
        rpc_conn_return(&k->rpc, op->answer, frame, sizeof(frame), handles, ncaps);
        return;
    }
    rpc_conn_return(&k->rpc, op->answer, op->results, cqe->result_len, handles, ncaps);
}

static void logout_done(struct gw_op *op, const struct capos_cqe *cqe)
{
    if (cqe->result < 0 || (cqe->flags & CAPOS_CQE_F_EXCEPTION))
        capos_printf("remote-gateway: the broker did not confirm a logout (%d); the session's "
                     "link is dropped, which ends it too\n",
                     cqe->result);
    /* Dropping the link after the logout, so the broker records the
     * logout as one and not as a shell that ended. */
    capos_release(op->link_client);
}

static void op_done(struct gw_op *op, const struct capos_cqe *cqe)
{
    switch (op->kind) {
    case GW_OP_FORWARD:
        forward_done(op, cqe);
        break;
    case GW_OP_LOGIN:
        gw_login_done(op, cqe);
        break;
    case GW_OP_BUNDLE:
        gw_bundle_done(op, cqe);
        break;
    case GW_OP_LOGOUT:
        logout_done(op, cqe);
        break;
    }
    gw_op_put(op);
}

void gw_op_complete(uint32_t index, uint32_t gen, const struct capos_cqe *cqe)
{
    if (index >= GW_OPS || !ops[index].used || ops[index].gen != gen || ops[index].parked)
        return;
    struct gw_op *op = &ops[index];
    /* An answer for a connection whose queue is full waits, with its
     * results in the op: what the engine would send now is what the
     * queue has no room for. The op stays charged to the connection, so
     * a peer that does not read also cannot start more calls. */
    if (op->kind != GW_OP_LOGOUT && gw_conn_live(op->conn, op->conn_gen) &&
        gw_conn_full(op->conn)) {
        op->cqe = *cqe;
        op->parked = true;
        gw_conns[op->conn].parked++;
        return;
    }
    op_done(op, cqe);
}

void gw_ops_unpark(uint32_t conn)
{
    /* Oldest first would need an order; the ops are few and any order of
     * Returns is valid (the peer matches them by question id). */
    for (uint32_t i = 0; i < GW_OPS; i++) {
        struct gw_op *op = &ops[i];
        if (!op->used || !op->parked || op->conn != conn)
            continue;
        bool live = gw_conn_live(op->conn, op->conn_gen) != 0;
        if (live && gw_conn_full(conn))
            return;
        op->parked = false;
        struct capos_cqe cqe = op->cqe;
        op_done(op, &cqe);
    }
}

void gw_broker_logout(const uint8_t id[16], uint32_t link)
{
    struct gw_op *op = gw_op_get(GW_OP_LOGOUT, 0, 0);
    if (op) {
        capnpc_call_init(&op->c, op->small, sizeof(op->small), op->results, 4096);
        AuthorityBroker_logout_Params_b p = AuthorityBroker_logout_begin(&op->c);
        AuthorityBroker_logout_Params_set_sessionId(p, id, 16);
        op->link_client = link;
        if (capos_call_start(&op->c, gw.broker, AuthorityBroker_INTERFACE_ID,
                             AuthorityBroker_logout_METHOD, gw_op_ud(op)))
            return;
        gw_op_put(op);
    }
    /* No op free: the same call, waiting for it. */
    struct capnpc_call c;
    static uint8_t p[128] __attribute__((aligned(8))), r[256] __attribute__((aligned(8)));
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    AuthorityBroker_logout_call(&capos_transport, gw.broker, &c, id, 16, 0);
    capos_release(link);
}
