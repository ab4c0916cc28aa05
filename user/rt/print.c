/* printf over the Console capability named "console". */
#include "capos_rt.h"

#include <stdarg.h>
#include <string.h>

#include "capos.capnp.h"
#include "text/fmt.h"

static uint32_t console_cap(void)
{
    static uint32_t cap;
    if (!cap)
        cap = capos_capset_find("console", Console_INTERFACE_ID, 0);
    return cap;
}

int capos_write(const char *s, size_t len)
{
    uint32_t cap = console_cap();
    if (!cap)
        return CAPOS_E_BAD_CAP;
    /* Long text goes out in pieces that fit the params buffer. */
    while (len) {
        uint8_t params[2048], results[64];
        size_t n = len > 1900 ? 1900 : len;
        struct capnpc_call c;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        int rc = Console_write_call(&capos_transport, cap, &c, s, (uint32_t)n, 0);
        if (rc != CAPNPC_OK)
            return rc;
        s += n;
        len -= n;
    }
    return 0;
}

struct out_buf {
    char buf[512];
    size_t len;
};

static void out_put(void *ctx, char ch)
{
    struct out_buf *o = ctx;
    if (o->len == sizeof(o->buf)) {
        capos_write(o->buf, o->len);
        o->len = 0;
    }
    o->buf[o->len++] = ch;
}

int capos_vprintf(const char *fmt, va_list ap)
{
    struct out_buf o;
    o.len = 0;
    size_t n = fmt_format(out_put, &o, fmt, ap);
    capos_write(o.buf, o.len);
    return (int)n;
}

int capos_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = capos_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void capos_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    capos_printf("panic: ");
    capos_vprintf(fmt, ap);
    capos_printf("\n");
    va_end(ap);
    capos_exit(127);
}
