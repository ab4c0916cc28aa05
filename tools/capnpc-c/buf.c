/* Output buffers, files and small allocation helpers (host code). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capnpc.h"

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("capnpc-c: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        fatal("out of memory");
    return p;
}

static void grow(struct buf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->len + n + 1)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (b->p == NULL)
        fatal("out of memory");
    b->cap = cap;
}

void buf_put(struct buf *b, const char *s, size_t n)
{
    grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void bprintf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        fatal("bad format");
    grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        fatal("bad format");
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        fatal("out of memory");
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        fatal("out of memory");
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* mkdir -p of the directory part of path. */
static bool make_dirs(const char *path)
{
    char *d = xstrndup(path, strlen(path));
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(d, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "capnpc-c: mkdir %s: %s\n", d, strerror(errno));
            free(d);
            return false;
        }
        *p = '/';
    }
    free(d);
    return true;
}

bool buf_write_file(const struct buf *b, const char *path)
{
    if (!make_dirs(path))
        return false;
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "capnpc-c: %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = fwrite(b->p ? b->p : "", 1, b->len, f) == b->len;
    ok = fclose(f) == 0 && ok;
    if (!ok)
        fprintf(stderr, "capnpc-c: writing %s failed\n", path);
    return ok;
}

/* Break code lines longer than `width` after a ", " outside string
 * literals, continuing one indent level deeper. Comments and preprocessor
 * lines are left alone. */
void buf_wrap(struct buf *b, size_t width)
{
    struct buf out = {0};
    const char *p = b->p ? b->p : "";
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        size_t ind = 0;
        while (ind < n && p[ind] == ' ')
            ind++;
        bool code = n > width && p[ind] != '/' && p[ind] != '*' && p[ind] != '#';
        size_t start = 0, col = 0;
        while (code && n - start + col > width) {
            size_t cut = 0;
            bool quoted = false;
            /* The last break before the width, else the first one after. */
            for (size_t i = start; i + 1 < n && (cut == 0 || i - start + col < width); i++) {
                if (p[i] == '"' && (i == 0 || p[i - 1] != '\\'))
                    quoted = !quoted;
                if (!quoted && p[i] == ',' && p[i + 1] == ' ')
                    cut = i + 1;
            }
            if (cut == 0)
                break;
            if (col > 0)
                bprintf(&out, "%*s", (int)col, "");
            buf_put(&out, p + start, cut - start);
            buf_put(&out, "\n", 1);
            start = cut + 1;
            col = ind + 4;
        }
        if (col > 0)
            bprintf(&out, "%*s", (int)col, "");
        buf_put(&out, p + start, n - start);
        if (eol)
            buf_put(&out, "\n", 1);
        p += n + (eol ? 1 : 0);
    }
    buf_free(b);
    *b = out;
}
