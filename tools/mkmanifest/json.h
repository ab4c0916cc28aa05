/*
 * A small strict JSON reader (RFC 8259) for mkmanifest: enough for what
 * `cue export` prints. Objects keep their keys in order; strings are UTF-8
 * with escapes decoded (a \u0000 is kept, with its length). Host code: it
 * allocates and exits on out-of-memory.
 */
#ifndef MKMANIFEST_JSON_H
#define MKMANIFEST_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
    enum jtype type;
    bool b;
    char *num; /* J_NUM: the number as written */
    char *s;   /* J_STR: decoded, NUL-terminated */
    size_t slen;
    size_t n;            /* J_ARR, J_OBJ: element count */
    struct jval **items; /* J_ARR, J_OBJ: values */
    char **keys;         /* J_OBJ: keys, in order */
};

/* Parse all of text. NULL on error, with a message ("line 3: expected ':'")
 * in err. */
struct jval *json_parse(const char *text, size_t len, char *err, size_t errsz);
void json_free(struct jval *v);

/* The value of key in an object, or NULL. */
const struct jval *json_get(const struct jval *obj, const char *key);

const char *json_type_name(enum jtype t);

#endif
