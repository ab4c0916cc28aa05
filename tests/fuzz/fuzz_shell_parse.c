/*
 * libFuzzer target for the capos-shell command-line parser. The input is
 * the line, in a buffer of exactly its size (ASan catches any read past
 * it). Every promise of shell_parse.h is checked again here, independently
 * of the parser's code: names are NUL-terminated identifiers that match the
 * line at their offsets, grant names are unique, errors lie inside the
 * line. A command that parses is printed back in canonical form and parsed
 * again, which must give the same command. The caret renderer must stay
 * inside its buffer for every size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/shell_parse.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* strnlen is POSIX, not C17. */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

static bool ident_byte(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* A NUL-terminated identifier of 1..SHELL_NAME_MAX bytes equal to
 * line[off .. off + len). */
static void check_name(const char *name, const uint8_t *line, size_t size, uint32_t off,
                       uint32_t len)
{
    size_t n = bounded_len(name, SHELL_NAME_MAX + 1);
    CHECK(n >= 1 && n <= SHELL_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        CHECK(ident_byte((uint8_t)name[i]));
    CHECK(len == n && off <= size && len <= size - off);
    CHECK(memcmp(line + off, name, n) == 0);
}

static void check_message(const char *m)
{
    size_t n = bounded_len(m, SHELL_MSG_MAX);
    CHECK(n > 0 && n < SHELL_MSG_MAX);
    for (size_t i = 0; i < n; i++)
        CHECK(m[i] >= 0x20 && m[i] < 0x7f);
}

static void check_ok(const struct shell_cmd *c, const uint8_t *line, size_t size)
{
    CHECK(c->kind > SHELL_CMD_NONE && c->kind <= SHELL_CMD_MEMORY); /* the last kind */
    CHECK(shell_cmd_name(c->kind)[0] != '\0');
    CHECK(c->grant_count <= SHELL_GRANTS_MAX);
    if (c->kind == SHELL_CMD_SPAWN || c->kind == SHELL_CMD_RUN) {
        check_name(c->binary, line, size, c->binary_off, c->binary_len);
        for (uint32_t i = 0; i < c->grant_count; i++) {
            const struct shell_grant *g = &c->grants[i];
            check_name(g->name, line, size, g->name_off, g->name_len);
            check_name(g->source, line, size, g->source_off, g->source_len);
            CHECK(g->source_off >= 1 && line[g->source_off - 1] == '@');
            for (uint32_t j = 0; j < i; j++)
                CHECK(strcmp(c->grants[j].name, g->name) != 0);
        }
    } else {
        CHECK(c->grant_count == 0 && c->binary[0] == '\0');
    }
    if (c->kind == SHELL_CMD_WAIT && c->has_job)
        CHECK(c->job >= 1 && c->job <= SHELL_JOB_MAX);
    else
        CHECK(!c->has_job && c->job == 0);
    if (c->kind == SHELL_CMD_ECHO) {
        CHECK(c->text_off <= size && c->text_len == size - c->text_off);
        for (uint32_t i = c->text_off; i < size; i++)
            CHECK(line[i] == '\t' || (line[i] >= 0x20 && line[i] < 0x7f));
    } else {
        CHECK(c->text_off == 0 && c->text_len == 0);
    }
}

/* Print a spawn/run back in canonical form, parse it, compare. */
static void check_roundtrip(const struct shell_cmd *c)
{
    static char canon[4096];
    static struct shell_cmd again;
    struct shell_error err;
    size_t n = (size_t)snprintf(canon, sizeof(canon), "%s \"%s\" with {", shell_cmd_name(c->kind),
                                c->binary);
    for (uint32_t i = 0; i < c->grant_count; i++)
        n += (size_t)snprintf(canon + n, sizeof(canon) - n, " %s: %s@%s,", c->grants[i].name,
                              c->grants[i].client ? "client " : "", c->grants[i].source);
    n += (size_t)snprintf(canon + n, sizeof(canon) - n, " }");
    CHECK(n < sizeof(canon));
    CHECK(shell_parse(canon, n, &again, &err) == SHELL_PARSE_OK);
    CHECK(again.kind == c->kind && strcmp(again.binary, c->binary) == 0);
    CHECK(again.grant_count == c->grant_count);
    for (uint32_t i = 0; i < c->grant_count; i++) {
        CHECK(strcmp(again.grants[i].name, c->grants[i].name) == 0);
        CHECK(strcmp(again.grants[i].source, c->grants[i].source) == 0);
        CHECK(again.grants[i].client == c->grants[i].client);
    }
}

static void check_render(const uint8_t *line, size_t size, const struct shell_error *err)
{
    static char full[4096];
    size_t total = shell_render_error((const char *)line, size, err, full, sizeof(full));
    CHECK(total < sizeof(full) - 1); /* the window keeps it short */
    CHECK(total == strlen(full));
    size_t newlines = 0;
    for (size_t i = 0; i < total; i++) {
        CHECK(full[i] == '\n' || (full[i] >= 0x20 && full[i] < 0x7f));
        newlines += full[i] == '\n';
    }
    CHECK(newlines == 2 && full[total - 1] == '\n');
    /* A small buffer gets a NUL-terminated prefix and nothing past it. */
    char small[40];
    size_t cap = size % 33;
    memset(small, 'G', sizeof(small));
    size_t n = shell_render_error((const char *)line, size, err, small, cap);
    CHECK(cap == 0 ? n == 0 : (n == (total < cap - 1 ? total : cap - 1) && small[n] == '\0'));
    CHECK(memcmp(small, full, n) == 0);
    for (size_t i = cap; i < sizeof(small); i++)
        CHECK(small[i] == 'G');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct shell_cmd cmd, cmd2;
    struct shell_error err, err2;
    const char *line = (const char *)data;

    enum shell_parse_status st = shell_parse(line, size, &cmd, &err);
    /* Deterministic, and nothing depends on what the structs held before. */
    memset(&cmd2, 0xa5, sizeof(cmd2));
    memset(&err2, 0xa5, sizeof(err2));
    CHECK(shell_parse(line, size, &cmd2, &err2) == st);
    CHECK(memcmp(&cmd, &cmd2, sizeof(cmd)) == 0 && memcmp(&err, &err2, sizeof(err)) == 0);

    switch (st) {
    case SHELL_PARSE_OK:
        CHECK(size <= SHELL_LINE_MAX && err.message[0] == '\0');
        check_ok(&cmd, data, size);
        if (cmd.kind == SHELL_CMD_SPAWN || cmd.kind == SHELL_CMD_RUN)
            check_roundtrip(&cmd);
        break;
    case SHELL_PARSE_EMPTY:
        CHECK(size <= SHELL_LINE_MAX && cmd.kind == SHELL_CMD_NONE);
        for (size_t i = 0; i < size; i++)
            CHECK(data[i] == ' ' || data[i] == '\t');
        break;
    case SHELL_PARSE_ERROR:
        CHECK(cmd.kind == SHELL_CMD_NONE && cmd.grant_count == 0);
        CHECK((size_t)err.offset + err.length <= size);
        CHECK(size <= SHELL_LINE_MAX || err.offset == SHELL_LINE_MAX);
        check_message(err.message);
        check_render(data, size, &err);
        break;
    default:
        CHECK(0);
    }
    return 0;
}
