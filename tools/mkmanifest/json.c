/* Strict JSON reader (json.h). Recursion is bounded by MAX_DEPTH. */
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct parser {
    const char *p, *end, *start;
    char *err;
    size_t errsz;
    bool failed;
};

static void *xalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "mkmanifest: out of memory\n");
        exit(1);
    }
    return p;
}

static void *xgrow(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "mkmanifest: out of memory\n");
        exit(1);
    }
    return p;
}

static int line_of(const struct parser *ps)
{
    int line = 1;
    for (const char *c = ps->start; c < ps->p && c < ps->end; c++)
        line += *c == '\n';
    return line;
}

static struct jval *fail(struct parser *ps, const char *fmt, ...)
{
    if (!ps->failed) {
        va_list ap;
        int n = snprintf(ps->err, ps->errsz, "line %d: ", line_of(ps));
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < ps->errsz)
            vsnprintf(ps->err + n, ps->errsz - (size_t)n, fmt, ap);
        va_end(ap);
        ps->failed = true;
    }
    return NULL;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool lit(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void put_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | cp >> 6);
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xe0 | cp >> 12);
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xf0 | cp >> 18);
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

/* A string; ps->p is at the opening quote. Decoded text is never longer
 * than the source, so one allocation of the source length suffices. */
static char *string(struct parser *ps, size_t *len)
{
    const char *q = ++ps->p;
    while (q < ps->end && *q != '"')
        q += *q == '\\' ? 2 : 1;
    if (q >= ps->end)
        return fail(ps, "unterminated string"), NULL;
    char *out = xalloc((size_t)(q - ps->p) + 1);
    size_t n = 0;
    while (ps->p < q) {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) {
            free(out);
            return fail(ps, "control character in a string"), NULL;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        char e = *ps->p++;
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(from, e) : NULL;
        if (hit != NULL) {
            out[n++] = to[hit - from];
            continue;
        }
        int cp = e == 'u' && q - ps->p >= 4 ? hex4(ps->p) : -1;
        if (cp < 0) {
            free(out);
            return fail(ps, "bad escape in a string"), NULL;
        }
        ps->p += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && q - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
            int lo = hex4(ps->p + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                ps->p += 6;
            }
        }
        if (cp >= 0xd800 && cp < 0xe000) {
            free(out);
            return fail(ps, "unpaired surrogate in a string"), NULL;
        }
        put_utf8(out, &n, (uint32_t)cp);
    }
    ps->p = q + 1;
    out[n] = 0;
    *len = n;
    return out;
}

static struct jval *value(struct parser *ps, int depth);

static struct jval *container(struct parser *ps, int depth, bool obj)
{
    struct jval *v = xalloc(sizeof(*v));
    v->type = obj ? J_OBJ : J_ARR;
    char close = obj ? '}' : ']';
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (obj) {
            size_t klen;
            if (ps->p >= ps->end || *ps->p != '"' || (key = string(ps, &klen)) == NULL) {
                json_free(v);
                return fail(ps, "expected a key in quotes");
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p++ != ':') {
                free(key);
                json_free(v);
                return fail(ps, "expected ':' after a key");
            }
        }
        struct jval *item = value(ps, depth + 1);
        if (item == NULL) {
            free(key);
            json_free(v);
            return NULL;
        }
        v->items = xgrow(v->items, (v->n + 1) * sizeof(*v->items));
        if (obj)
            v->keys = xgrow(v->keys, (v->n + 1) * sizeof(*v->keys)), v->keys[v->n] = key;
        v->items[v->n++] = item;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return v;
        }
        json_free(v);
        return fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static struct jval *number(struct parser *ps)
{
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    size_t digits = 0;
    while (ps->p < ps->end && ((*ps->p >= '0' && *ps->p <= '9') || strchr(".eE+-", *ps->p)))
        ps->p++, digits++;
    if (digits == 0)
        return fail(ps, "expected a value");
    struct jval *v = xalloc(sizeof(*v));
    v->type = J_NUM;
    v->num = xalloc((size_t)(ps->p - s) + 1);
    memcpy(v->num, s, (size_t)(ps->p - s));
    return v;
}

static struct jval *value(struct parser *ps, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(ps, "nested more than %d levels", MAX_DEPTH);
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end of input");
    struct jval *v;
    switch (*ps->p) {
    case '{':
    case '[':
        return container(ps, depth, *ps->p == '{');
    case '"':
        v = xalloc(sizeof(*v));
        v->type = J_STR;
        if ((v->s = string(ps, &v->slen)) == NULL) {
            free(v);
            return NULL;
        }
        return v;
    default:
        if (lit(ps, "true") || lit(ps, "false") || lit(ps, "null")) {
            v = xalloc(sizeof(*v));
            v->type = ps->p[-1] == 'l' ? J_NULL : J_BOOL;
            v->b = ps->p[-1] == 'e' && ps->p[-2] == 'u';
            return v;
        }
        return number(ps);
    }
}

struct jval *json_parse(const char *text, size_t len, char *err, size_t errsz)
{
    struct parser ps = {text, text + len, text, err, errsz, false};
    struct jval *v = value(&ps, 0);
    if (v == NULL)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        json_free(v);
        return fail(&ps, "unexpected text after the value");
    }
    return v;
}

void json_free(struct jval *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->num);
    free(v->s);
    free(v);
}

const struct jval *json_get(const struct jval *obj, const char *key)
{
    if (obj == NULL || obj->type != J_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

const char *json_type_name(enum jtype t)
{
    static const char *const names[] = {"null",     "a boolean", "a number",
                                        "a string", "a list",    "an object"};
    return names[t];
}
