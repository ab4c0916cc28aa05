/*
 * audit: print the audit log through StdIO (run "audit" with { log: @audit }).
 * Works only with a wrapper of the log that allows `read`: an operator's.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "text/fmt.h"

static uint32_t stdio;

static void say(const char *s, size_t n)
{
    static uint8_t params[1024] __attribute__((aligned(8)));
    uint8_t results[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (stdio)
        StdIO_write_call(&capos_transport, stdio, &c, s, (uint32_t)n, 0);
    else
        capos_write(s, n);
}

int main(void)
{
    stdio = capos_capset_find("stdio", StdIO_INTERFACE_ID, 0);
    uint32_t log = capos_capset_find("log", AuditLog_INTERFACE_ID, 0);
    char line[300];
    if (!log) {
        say("audit: no AuditLog capability named \"log\" was granted\r\n", 56);
        return 1;
    }
    static uint8_t params[128] __attribute__((aligned(8)));
    static uint8_t results[16384] __attribute__((aligned(8)));
    uint32_t from = 1;
    for (int pages = 0; pages < 64; pages++) {
        struct capnpc_call c;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        AuditLog_read_Results_r r;
        int rc = AuditLog_read_call(&capos_transport, log, &c, from, 32, &r);
        if (rc != CAPNPC_OK) {
            int n = fmt_snprintf(line, sizeof(line), "audit: cannot read the log (%s)\r\n",
                                 rc == CAPNPC_EXCEPTION ? "refused" : "call failed");
            say(line, (size_t)n);
            return 1;
        }
        List_AuditLog_Record_r recs = AuditLog_read_Results_get_records(r);
        uint32_t n = List_AuditLog_Record_len(recs);
        for (uint32_t i = 0; i < n; i++) {
            AuditLog_Record_r rec = List_AuditLog_Record_get(recs, i);
            struct capn_text who = AuditLog_Record_get_principal(rec);
            struct capn_text what = AuditLog_Record_get_detail(rec);
            AuditLog_Kind k = AuditLog_Record_get_kind(rec);
            int w = fmt_snprintf(line, sizeof(line), "audit: #%u %6lu ms %-11s %-12.*s %.*s\r\n",
                                 AuditLog_Record_get_seq(rec),
                                 AuditLog_Record_get_timeNs(rec) / 1000000,
                                 k < AuditLog_Kind_COUNT ? AuditLog_Kind_NAMES[k] : "?",
                                 (int)(who.len < 31 ? who.len : 31), who.str,
                                 (int)(what.len < 127 ? what.len : 127), what.str);
            say(line, (size_t)(w < (int)sizeof(line) ? w : (int)sizeof(line) - 1));
        }
        uint32_t next = AuditLog_read_Results_get_next(r);
        if (n == 0 || next <= from)
            break;
        from = next;
    }
    return 0;
}
