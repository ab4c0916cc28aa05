/*
 * audit-log: append-only records of what happened to sessions
 * (docs/sessions.md). Keeps the newest 256 records in a ring; sequence
 * numbers start at 1 and only grow. There is no method to change or delete
 * a record: who may append or read is decided by which wrapper of the
 * export a process holds (the authority broker hands out append-only and
 * append+read wrappers). Records are not echoed to the console: whoever
 * sits at it, anonymous included, would read them there; the `audit`
 * program, with a session's read wrapper, is the way to read the log.
 *
 * Caps: "timer" (record times), "console" (optional, messages).
 * Export: "log" (AuditLog).
 */
#include "svc.h"

#define RECORDS       256
#define PRINCIPAL_MAX 31
#define DETAIL_MAX    127
#define READ_MAX      32

struct record {
    uint32_t seq;
    uint8_t kind;
    uint8_t principal_len;
    uint8_t detail_len;
    uint64_t time_ns;
    char principal[PRINCIPAL_MAX + 1];
    char detail[DETAIL_MAX + 1];
};

static struct record ring[RECORDS];
static uint32_t next_seq = 1; /* the sequence number of the next record */
static uint32_t timer;

static uint64_t now_ns(void)
{
    uint8_t p[64] __attribute__((aligned(8))), r[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    Timer_now_Results_r now;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    return Timer_now_call(&capos_transport, timer, &c, &now) == CAPNPC_OK
               ? Timer_now_Results_get_ns(now)
               : 0;
}

static int append(void *self, AuditLog_append_Params_r params, AuditLog_append_Results_b results,
                  void *ctx)
{
    (void)self;
    (void)results;
    unsigned kind = (unsigned)AuditLog_append_Params_get_kind(params);
    struct capn_text who = AuditLog_append_Params_get_principal(params);
    struct capn_text what = AuditLog_append_Params_get_detail(params);
    if (!svc_params_ok(ctx, params.s))
        return CAPNPC_OK;
    if (kind >= AuditLog_Kind_COUNT)
        return svc_fail(ctx, CapException_Type_invalidArgument,
                        "append: kind %u is not an AuditLog.Kind (expected 0..%u)", kind,
                        AuditLog_Kind_COUNT - 1);
    if (next_seq == UINT32_MAX)
        return svc_fail(ctx, CapException_Type_overloaded,
                        "append: the log has used every sequence number");
    struct record *rec = &ring[(next_seq - 1) % RECORDS];
    rec->seq = next_seq++;
    rec->kind = (uint8_t)kind;
    rec->time_ns = now_ns();
    /* Longer text is cut (at a character boundary); control characters
     * become '?', so that a reader can print a record as it is. */
    rec->principal_len =
        (uint8_t)svc_clean_copy(rec->principal, PRINCIPAL_MAX, who.str ? who.str : "", who.len);
    rec->detail_len =
        (uint8_t)svc_clean_copy(rec->detail, DETAIL_MAX, what.str ? what.str : "", what.len);
    return CAPNPC_OK;
}

static int read_records(void *self, AuditLog_read_Params_r params, AuditLog_read_Results_b results,
                        void *ctx)
{
    (void)self;
    uint32_t from = AuditLog_read_Params_get_from(params);
    uint32_t max = AuditLog_read_Params_get_max(params);
    if (!svc_params_ok(ctx, params.s))
        return CAPNPC_OK;
    if (max > READ_MAX)
        return svc_fail(ctx, CapException_Type_invalidArgument,
                        "read: max is %u; expected at most %u records per call", max, READ_MAX);
    /* The oldest record still kept; older ones were overwritten. */
    uint32_t oldest = next_seq > RECORDS ? next_seq - RECORDS : 1;
    uint32_t start = from > oldest ? from : oldest;
    uint32_t n = 0;
    if (start < next_seq)
        n = next_seq - start < max ? next_seq - start : max;
    List_AuditLog_Record_b list = AuditLog_read_Results_init_records(results, n);
    for (uint32_t i = 0; i < n; i++) {
        const struct record *rec = &ring[(start + i - 1) % RECORDS];
        AuditLog_Record_b b = List_AuditLog_Record_at(list, i);
        AuditLog_Record_set_seq(b, rec->seq);
        AuditLog_Record_set_timeNs(b, rec->time_ns);
        AuditLog_Record_set_kind(b, (AuditLog_Kind)rec->kind);
        AuditLog_Record_set_principal(b, rec->principal, rec->principal_len);
        AuditLog_Record_set_detail(b, rec->detail, rec->detail_len);
    }
    AuditLog_read_Results_set_next(results, start + n);
    return CAPNPC_OK;
}

static const struct AuditLog_ops ops = {.append = append, .read = read_records};

int main(void)
{
    svc_name = "audit-log";
    timer = svc_need("timer", Timer_INTERFACE_ID);
    struct capos_server srv = {
        .endpoint = svc_need("log", AuditLog_INTERFACE_ID),
        .iface = &AuditLog_IFACE,
        .ops = &ops,
    };
    int rc = svc_serve(&srv);
    return rc < 0 ? 1 : 0;
}
