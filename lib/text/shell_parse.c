/*
 * The capos-shell command-line parser (see shell_parse.h for the grammar).
 *
 * A small lexer turns the line into tokens one at a time; the parser is a
 * straight-line walk over them, so there is no recursion and the work is
 * linear in the line. Every read is guarded by pos < len. Lexical errors
 * (a stray byte, an unterminated string) are reported by the lexer itself,
 * at the byte, and take precedence over what the parser expected there:
 * "unexpected character '\x07'" says more than "expected ':'".
 *
 * Every error message names what was found (quoted, cut at MSG_WORD_MAX
 * bytes) and what was expected, and fits SHELL_MSG_MAX with room to spare.
 */
#include "text/shell_parse.h"

#include "string.h"

/* Longest quoted word copied into a message before it is cut with "...". */
#define MSG_WORD_MAX 24u

/* The limits are spelled out in messages below; keep them in step. */
_Static_assert(SHELL_NAME_MAX == 31, "update \"name too long\"");
_Static_assert(SHELL_GRANTS_MAX == 16, "update \"too many grants\"");
_Static_assert(SHELL_JOB_MAX == 999999, "update \"job number out of range\"");
_Static_assert(SHELL_LINE_MAX == 1024, "update \"line too long\"");

enum tok_kind {
    T_END,    /* end of line; off = len, len 0 */
    T_IDENT,  /* [A-Za-z0-9_.-]+ (any length; names are checked later) */
    T_STRING, /* "ident", val = the bytes between the quotes (maybe empty) */
    T_REF,    /* @ident, val = the identifier */
    T_LBRACE,
    T_RBRACE,
    T_COMMA,
    T_COLON,
    T_ERR, /* lexical error, already reported */
};

struct tok {
    enum tok_kind kind;
    uint32_t off, len;         /* the whole token */
    uint32_t val_off, val_len; /* the name inside it (T_IDENT, T_STRING, T_REF) */
};

struct parser {
    const char *s;
    uint32_t len, pos;
    struct shell_error *err;
};

static bool is_ident(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* ---- Messages ---- */

struct msg {
    char *buf;
    size_t pos;
};

static void msg_ch(struct msg *m, char c)
{
    if (m->pos + 1 < SHELL_MSG_MAX) {
        m->buf[m->pos++] = c;
        m->buf[m->pos] = '\0';
    }
}

static void msg_str(struct msg *m, const char *str)
{
    while (*str)
        msg_ch(m, *str++);
}

/* One byte as it should appear in a message: itself if printable ASCII,
 * otherwise \xNN, so a message never carries a control byte. */
static void msg_byte(struct msg *m, uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    if (c >= 0x20 && c < 0x7f) {
        msg_ch(m, (char)c);
        return;
    }
    msg_str(m, "\\x");
    msg_ch(m, hex[c >> 4]);
    msg_ch(m, hex[c & 15]);
}

/* 'word', cut to MSG_WORD_MAX bytes with "..." so the message stays short. */
static void msg_word(struct msg *m, const char *w, size_t n)
{
    msg_ch(m, '\'');
    for (size_t i = 0; i < n && i < MSG_WORD_MAX; i++)
        msg_byte(m, (uint8_t)w[i]);
    if (n > MSG_WORD_MAX)
        msg_str(m, "...");
    msg_ch(m, '\'');
}

/* Record an error: before + 'word' (if any) + after. Returns false so
 * callers can write "return fail(...)". */
static bool fail(struct parser *p, uint32_t off, uint32_t len, const char *before, const char *w,
                 size_t wn, const char *after)
{
    struct msg m = {p->err->message, 0};
    p->err->offset = off;
    p->err->length = len;
    p->err->message[0] = '\0';
    msg_str(&m, before);
    if (w)
        msg_word(&m, w, wn);
    msg_str(&m, after);
    return false;
}

static bool fail_at(struct parser *p, const struct tok *t, const char *message)
{
    return fail(p, t->off, t->len, message, NULL, 0, "");
}

static bool fail_char(struct parser *p, uint32_t at, const char *after)
{
    struct msg m = {p->err->message, 0};
    fail(p, at, 1, "unexpected character '", NULL, 0, "");
    m.pos = strlen(m.buf);
    msg_byte(&m, (uint8_t)p->s[at]);
    msg_ch(&m, '\'');
    msg_str(&m, after);
    return false;
}

/* ---- Lexer ---- */

static uint32_t ident_end(const struct parser *p, uint32_t i)
{
    while (i < p->len && is_ident((uint8_t)p->s[i]))
        i++;
    return i;
}

/* The next token after any whitespace. Returns false on a lexical error
 * (t->kind T_ERR, error recorded). */
static bool next(struct parser *p, struct tok *t)
{
    while (p->pos < p->len && is_space((uint8_t)p->s[p->pos]))
        p->pos++;
    uint32_t at = p->pos;
    *t = (struct tok){.kind = T_END, .off = at, .len = 0, .val_off = at, .val_len = 0};
    if (at == p->len)
        return true;
    uint8_t c = (uint8_t)p->s[at];
    uint32_t end = at + 1;
    if (is_ident(c)) {
        end = ident_end(p, at);
        t->kind = T_IDENT;
        t->val_len = end - at;
    } else if (c == '"') {
        /* Only identifier bytes may be quoted: a quote is a name, not a
         * general string, so there is nothing to escape. */
        uint32_t i = ident_end(p, at + 1);
        if (i == p->len) {
            t->kind = T_ERR;
            return fail(p, at, p->len - at, "unterminated string (expected '\"')", NULL, 0, "");
        }
        if (p->s[i] != '"') {
            t->kind = T_ERR;
            return fail_char(p, i, " in a name (expected letters, digits, '_', '.', '-')");
        }
        t->kind = T_STRING;
        t->val_off = at + 1;
        t->val_len = i - (at + 1);
        end = i + 1;
    } else if (c == '@') {
        /* '@' binds to the name right after it, like a sigil. */
        end = ident_end(p, at + 1);
        if (end == at + 1) {
            t->kind = T_ERR;
            return fail(p, at, 1, "expected a name right after '@'", NULL, 0, "");
        }
        t->kind = T_REF;
        t->val_off = at + 1;
        t->val_len = end - (at + 1);
    } else if (c == '{') {
        t->kind = T_LBRACE;
    } else if (c == '}') {
        t->kind = T_RBRACE;
    } else if (c == ',') {
        t->kind = T_COMMA;
    } else if (c == ':') {
        t->kind = T_COLON;
    } else {
        t->kind = T_ERR;
        return fail_char(p, at, "");
    }
    t->len = end - at;
    p->pos = end;
    return true;
}

static bool tok_is(const struct parser *p, const struct tok *t, const char *word)
{
    size_t n = strlen(word);
    return t->kind == T_IDENT && t->len == n && memcmp(p->s + t->off, word, n) == 0;
}

/* Copy a name token's value into dst[SHELL_NAME_MAX + 1]. */
static bool take_name(struct parser *p, const struct tok *t, char *dst, const char *what)
{
    if (t->val_len == 0)
        return fail(p, t->off, t->len, what, NULL, 0, "");
    if (t->val_len > SHELL_NAME_MAX)
        return fail(p, t->val_off, t->val_len, "name too long (at most 31 bytes)", NULL, 0, "");
    memcpy(dst, p->s + t->val_off, t->val_len);
    dst[t->val_len] = '\0';
    return true;
}

/* ---- Commands ---- */

enum args { A_NONE, A_ECHO, A_WAIT, A_SPAWN };

static const struct {
    const char *name;
    enum shell_cmd_kind kind;
    enum args args;
} commands[] = {
    {"help", SHELL_CMD_HELP, A_NONE},     {"caps", SHELL_CMD_CAPS, A_NONE},
    {"whoami", SHELL_CMD_WHOAMI, A_NONE}, {"login", SHELL_CMD_LOGIN, A_NONE},
    {"setup", SHELL_CMD_SETUP, A_NONE},   {"guest", SHELL_CMD_GUEST, A_NONE},
    {"logout", SHELL_CMD_LOGOUT, A_NONE}, {"jobs", SHELL_CMD_JOBS, A_NONE},
    {"clear", SHELL_CMD_CLEAR, A_NONE},   {"echo", SHELL_CMD_ECHO, A_ECHO},
    {"wait", SHELL_CMD_WAIT, A_WAIT},     {"spawn", SHELL_CMD_SPAWN, A_SPAWN},
    {"run", SHELL_CMD_RUN, A_SPAWN},      {"programs", SHELL_CMD_PROGRAMS, A_NONE},
    {"memory", SHELL_CMD_MEMORY, A_NONE},
};
#define NCOMMANDS   (sizeof(commands) / sizeof(commands[0]))
#define CMD_LEN_MAX 8u /* longest command word ("programs") */

const char *shell_cmd_name(enum shell_cmd_kind kind)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].kind == kind)
            return commands[i].name;
    return "";
}

static uint8_t fold(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Optimal string alignment distance (edits, with adjacent transpositions
 * counted as one), case-insensitive: "lgoin" is 1 away from "login". */
static unsigned distance(const char *a, size_t n, const char *b, size_t m)
{
    uint8_t d[SHELL_NAME_MAX + 1][CMD_LEN_MAX + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (uint8_t)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (uint8_t)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            uint8_t ai = fold((uint8_t)a[i - 1]), bj = (uint8_t)b[j - 1];
            unsigned best = d[i - 1][j - 1] + (ai != bj);
            if (d[i - 1][j] + 1u < best)
                best = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < best)
                best = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && ai == (uint8_t)b[j - 2] && fold((uint8_t)a[i - 2]) == bj &&
                d[i - 2][j - 2] + 1u < best)
                best = d[i - 2][j - 2] + 1u;
            d[i][j] = (uint8_t)best;
        }
    }
    return d[n][m];
}

/* The command a mistyped word most likely meant, or NULL. One edit is
 * always a likely typo; two only for words of five bytes or more, where
 * they are still rare by chance ("exit" is two edits from "wait"). */
static const char *suggest(const char *w, size_t n)
{
    if (n > SHELL_NAME_MAX)
        return NULL;
    const char *best = NULL;
    unsigned best_d = 3;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        size_t m = strlen(commands[i].name);
        unsigned d = distance(w, n, commands[i].name, m);
        unsigned limit = (n >= 5 && m >= 5) ? 2 : 1;
        if (d <= limit && d < best_d) {
            best = commands[i].name;
            best_d = d;
        }
    }
    return best;
}

static bool expect_end(struct parser *p, const char *message)
{
    struct tok t;
    if (!next(p, &t))
        return false;
    if (t.kind != T_END)
        return fail_at(p, &t, message);
    return true;
}

static bool parse_echo(struct parser *p, struct shell_cmd *out)
{
    /* The text starts after exactly one separator and is kept as typed,
     * trailing spaces included. */
    if (p->pos == p->len) {
        out->text_off = p->len;
        return true;
    }
    uint8_t c = (uint8_t)p->s[p->pos];
    if (!is_space(c) && (c < 0x20 || c >= 0x7f))
        return fail_char(p, p->pos, "");
    if (!is_space(c))
        return fail(p, p->pos, 1, "expected a space after 'echo'", NULL, 0, "");
    out->text_off = p->pos + 1;
    out->text_len = p->len - out->text_off;
    for (uint32_t i = out->text_off; i < p->len; i++) {
        c = (uint8_t)p->s[i];
        if (c != '\t' && (c < 0x20 || c >= 0x7f))
            return fail_char(p, i, "");
    }
    return true;
}

static bool parse_wait(struct parser *p, struct shell_cmd *out)
{
    struct tok t;
    if (!next(p, &t))
        return false;
    if (t.kind == T_END)
        return true;
    if (t.kind != T_IDENT)
        return fail_at(p, &t, "expected a job number or end of line");
    /* Accumulate with saturation: any number of digits is safe to read,
     * and anything above SHELL_JOB_MAX is out of range, not wrapped. */
    uint32_t v = 0;
    for (uint32_t i = t.off; i < t.off + t.len; i++) {
        uint8_t c = (uint8_t)p->s[i];
        if (c < '0' || c > '9')
            return fail_at(p, &t, "expected a job number (digits only)");
        v = v > SHELL_JOB_MAX ? v : v * 10 + (c - '0');
    }
    if (v == 0 || v > SHELL_JOB_MAX)
        return fail_at(p, &t, "job number out of range (1..999999)");
    out->has_job = true;
    out->job = v;
    return expect_end(p, "expected end of line after the job number");
}

static bool parse_grant(struct parser *p, struct shell_cmd *out, const struct tok *name)
{
    if (out->grant_count == SHELL_GRANTS_MAX)
        return fail_at(p, name, "too many grants (at most 16)");
    struct shell_grant *g = &out->grants[out->grant_count];
    if (!take_name(p, name, g->name, "expected a grant name"))
        return false;
    for (uint32_t i = 0; i < out->grant_count; i++)
        if (strcmp(out->grants[i].name, g->name) == 0)
            return fail(p, name->off, name->len, "duplicate grant name ", p->s + name->off,
                        name->len, "");
    g->name_off = name->off;
    g->name_len = name->len;

    struct tok t;
    if (!next(p, &t))
        return false;
    if (t.kind != T_COLON)
        return fail(p, t.off, t.len, "expected ':' after ", p->s + name->off, name->len, "");
    if (!next(p, &t))
        return false;
    if (tok_is(p, &t, "client")) {
        g->client = true;
        if (!next(p, &t))
            return false;
        if (t.kind != T_REF)
            return fail_at(p, &t, "expected '@service' after 'client'");
    } else if (t.kind != T_REF) {
        return fail_at(p, &t, "expected '@capability' or 'client @service'");
    }
    if (!take_name(p, &t, g->source, "expected a name right after '@'"))
        return false;
    g->source_off = t.val_off;
    g->source_len = t.val_len;
    out->grant_count++;
    return true;
}

static bool parse_spawn(struct parser *p, struct shell_cmd *out)
{
    struct tok t;
    if (!next(p, &t))
        return false;
    if (t.kind != T_STRING && t.kind != T_IDENT)
        return fail_at(p, &t, "expected a binary name, e.g. \"hello\"");
    if (!take_name(p, &t, out->binary, "empty binary name"))
        return false;
    out->binary_off = t.val_off;
    out->binary_len = t.val_len;

    if (!next(p, &t))
        return false;
    if (t.kind == T_END)
        return true;
    if (!tok_is(p, &t, "with"))
        return fail_at(p, &t, "expected 'with' or end of line");
    if (!next(p, &t))
        return false;
    if (t.kind != T_LBRACE)
        return fail_at(p, &t, "expected '{' after 'with'");

    /* { [grant {, grant} [,]] }: after '{' or ',' comes a grant or '}';
     * after a grant comes ',' or '}'. */
    for (;;) {
        if (!next(p, &t))
            return false;
        if (t.kind == T_RBRACE)
            break;
        if (t.kind == T_END)
            return fail_at(p, &t, "missing '}' at end of line");
        if (t.kind != T_IDENT)
            return fail_at(p, &t, "expected a grant name or '}'");
        if (!parse_grant(p, out, &t))
            return false;
        if (!next(p, &t))
            return false;
        if (t.kind == T_RBRACE)
            break;
        if (t.kind == T_END)
            return fail_at(p, &t, "missing '}' at end of line");
        if (t.kind != T_COMMA)
            return fail_at(p, &t, "expected ',' or '}'");
    }
    return expect_end(p, "expected end of line after '}'");
}

static bool parse_command(struct parser *p, const struct tok *word, struct shell_cmd *out)
{
    const char *w = p->s + word->off;
    size_t i = 0;
    while (i < NCOMMANDS &&
           !(strlen(commands[i].name) == word->len && memcmp(commands[i].name, w, word->len) == 0))
        i++;
    if (i == NCOMMANDS) {
        const char *s = suggest(w, word->len);
        if (!s)
            return fail(p, word->off, word->len, "unknown command ", w, word->len, " (try 'help')");
        fail(p, word->off, word->len, "unknown command ", w, word->len, " (did you mean ");
        struct msg m = {p->err->message, strlen(p->err->message)};
        msg_word(&m, s, strlen(s));
        msg_str(&m, "?)");
        return false;
    }
    out->kind = commands[i].kind;
    switch (commands[i].args) {
    case A_ECHO:
        return parse_echo(p, out);
    case A_WAIT:
        return parse_wait(p, out);
    case A_SPAWN:
        return parse_spawn(p, out);
    case A_NONE:
        break;
    }
    struct tok t;
    if (!next(p, &t))
        return false;
    if (t.kind != T_END)
        return fail(p, t.off, t.len, "", w, word->len, " takes no arguments");
    return true;
}

enum shell_parse_status shell_parse(const char *line, size_t len, struct shell_cmd *out,
                                    struct shell_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    struct parser p = {line, 0, 0, err};
    if (len > SHELL_LINE_MAX) {
        /* Refused before any byte is looked at; the error covers the part
         * past the limit (clamped so offset + length <= len always holds). */
        size_t over = len - SHELL_LINE_MAX;
        fail(&p, SHELL_LINE_MAX,
             over > UINT32_MAX - SHELL_LINE_MAX ? UINT32_MAX - SHELL_LINE_MAX : (uint32_t)over,
             "line too long (at most 1024 bytes)", NULL, 0, "");
        return SHELL_PARSE_ERROR;
    }
    p.len = (uint32_t)len;
    struct tok t;
    bool ok = next(&p, &t);
    if (ok && t.kind == T_END)
        return SHELL_PARSE_EMPTY;
    if (ok && t.kind != T_IDENT)
        ok = fail_at(&p, &t, "expected a command (try 'help')");
    if (ok)
        ok = parse_command(&p, &t, out);
    if (ok)
        return SHELL_PARSE_OK;
    /* Leave nothing half-parsed behind for a caller that ignores the
     * status. */
    struct shell_error saved = *err;
    memset(out, 0, sizeof(*out));
    *err = saved;
    return SHELL_PARSE_ERROR;
}

/* ---- Error rendering ---- */

struct rbuf {
    char *buf;
    size_t size, pos;
};

static void r_ch(struct rbuf *r, char c)
{
    if (r->pos + 1 < r->size)
        r->buf[r->pos++] = c;
}

static void r_str(struct rbuf *r, const char *s)
{
    while (*s)
        r_ch(r, *s++);
}

static void r_rep(struct rbuf *r, char c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        r_ch(r, c);
}

size_t shell_render_error(const char *line, size_t len, const struct shell_error *err, char *buf,
                          size_t size)
{
    struct rbuf r = {buf, size, 0};
    /* Clamp, so a stale or hand-made error cannot make us read past len. */
    size_t off = err->offset < len ? err->offset : len;
    size_t elen = err->length < len - off ? err->length : len - off;

    size_t start = 0, end = len;
    if (len > SHELL_RENDER_COLS) {
        start = off > SHELL_RENDER_COLS / 2 ? off - SHELL_RENDER_COLS / 2 : 0;
        end = start + SHELL_RENDER_COLS;
        if (end > len) {
            end = len;
            start = len - SHELL_RENDER_COLS;
        }
    }
    r_str(&r, "  ");
    if (start > 0)
        r_str(&r, "...");
    for (size_t i = start; i < end; i++) {
        uint8_t c = (uint8_t)line[i];
        r_ch(&r, c == '\t' ? ' ' : (c >= 0x20 && c < 0x7f) ? (char)c : '?');
    }
    if (end < len)
        r_str(&r, "...");
    r_str(&r, "\n  ");
    if (start > 0)
        r_str(&r, "   ");
    r_rep(&r, ' ', off - start);
    size_t carets = elen < end - off ? elen : end - off;
    r_rep(&r, '^', carets ? carets : 1);
    r_ch(&r, ' ');
    for (size_t i = 0; i < SHELL_MSG_MAX && err->message[i]; i++) {
        uint8_t c = (uint8_t)err->message[i];
        r_ch(&r, (c >= 0x20 && c < 0x7f) ? (char)c : '?');
    }
    r_ch(&r, '\n');
    if (size > 0)
        r.buf[r.pos] = '\0';
    return r.pos;
}
