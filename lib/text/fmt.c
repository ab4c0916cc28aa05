/* printf-style formatting into a sink (see fmt.h). */
#include "text/fmt.h"

#include <stdbool.h>
#include <stdint.h>

struct sink {
    fmt_sink put;
    void *ctx;
    size_t len;
};

static void emit(struct sink *s, char c)
{
    s->put(s->ctx, c);
    s->len++;
}

static void emit_padded(struct sink *s, const char *str, size_t n, int width, bool left, char pad)
{
    int fill = width > (int)n ? width - (int)n : 0;
    if (!left)
        while (fill-- > 0)
            emit(s, pad);
    for (size_t i = 0; i < n; i++)
        emit(s, str[i]);
    if (left)
        while (fill-- > 0)
            emit(s, ' ');
}

static void emit_number(struct sink *s, uint64_t v, bool neg, unsigned base, bool upper, int width,
                        bool left, char pad)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (neg) {
        if (pad == '0') {
            /* The sign goes before zero padding: -0042, not 00-42. */
            emit(s, '-');
            width--;
        } else {
            tmp[n++] = '-';
        }
    }
    char out[24];
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    emit_padded(s, out, (size_t)n, width, left, pad);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            emit(s, *p);
            continue;
        }
        p++;
        bool left = false;
        char pad = ' ';
        for (;; p++) {
            if (*p == '-')
                left = true;
            else if (*p == '0')
                pad = '0';
            else
                break;
        }
        int width = 0;
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        int precision = -1;
        if (*p == '.') {
            p++;
            if (*p == '*') {
                precision = va_arg(ap, int);
                p++;
            } else {
                for (precision = 0; *p >= '0' && *p <= '9'; p++)
                    precision = precision * 10 + (*p - '0');
            }
        }
        int longs = 0;
        while (*p == 'l' || *p == 'z') {
            longs += *p == 'z' ? 2 : 1;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
            emit_number(s, mag, v < 0, 10, false, width, left, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            emit_number(s, v, false, *p == 'u' ? 10 : 16, *p == 'X', width, left, pad);
            break;
        }
        case 'p':
            emit(s, '0');
            emit(s, 'x');
            emit_number(s, (uintptr_t)va_arg(ap, void *), false, 16, false, 16, false, '0');
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            emit_padded(s, &c, 1, width, left, ' ');
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            size_t n = 0;
            while ((precision < 0 || n < (size_t)precision) && str[n])
                n++;
            emit_padded(s, str, n, width, left, ' ');
            break;
        }
        case '%':
            emit(s, '%');
            break;
        case '\0':
            return;
        default:
            /* Unknown conversion: print it verbatim so the mistake shows. */
            emit(s, '%');
            emit(s, *p);
        }
    }
}

size_t fmt_format(fmt_sink put, void *ctx, const char *fmt, va_list ap)
{
    struct sink s = {.put = put, .ctx = ctx};
    format(&s, fmt, ap);
    return s.len;
}

struct buf_ctx {
    char *buf;
    size_t size, len;
};

static void buf_put(void *ctx, char c)
{
    struct buf_ctx *b = ctx;
    if (b->len + 1 < b->size)
        b->buf[b->len] = c;
    b->len++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_ctx b = {.buf = buf, .size = size};
    fmt_format(buf_put, &b, fmt, ap);
    if (size)
        buf[b.len < size ? b.len : size - 1] = '\0';
    return (int)b.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
