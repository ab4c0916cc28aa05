/*
 * The capos-shell command-line parser.
 *
 * Pure, freestanding code: no allocation, no recursion, no libc beyond
 * mem* from lib/freestanding/string.h. The line is hostile (anyone at the
 * terminal, or a paste): shell_parse() reads only [line, line + len), needs
 * no NUL terminator, and either fills a caller-provided struct shell_cmd or
 * reports the offending bytes (offset, length) and a short message saying
 * what was wrong and what was expected.
 *
 * Grammar (whitespace is spaces and tabs, allowed between any two tokens):
 *
 *   line   := ws* [command] ws*
 *   command:= help | caps | whoami | login | setup | guest | logout | jobs
 *           | clear                         (no arguments)
 *           | echo [(' ' | '\t') text]      (text: the rest of the line)
 *           | wait [digits]                 (job 1..SHELL_JOB_MAX)
 *           | (spawn | run) binary [with '{' [grant {',' grant} [',']] '}']
 *   binary := '"' ident '"' | ident
 *   grant  := ident ':' ('@' ident | client '@' ident)   ('@' binds tight)
 *   ident  := [A-Za-z0-9_.-]{1,SHELL_NAME_MAX}
 *
 * Only printable ASCII (and tabs) may appear anywhere, echo text included:
 * the shell prints echo text and names back to the terminal, so a control
 * byte or a C1 byte >= 0x80 could drive the terminal. Such a byte is an
 * error "unexpected character '\xNN'" pointing at it.
 */
#ifndef CAPOS_LIB_SHELL_PARSE_H
#define CAPOS_LIB_SHELL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHELL_LINE_MAX   1024u   /* longest line parsed, in bytes */
#define SHELL_NAME_MAX   31u     /* longest binary, grant or capability name */
#define SHELL_GRANTS_MAX 16u     /* most grants in one spawn/run */
#define SHELL_JOB_MAX    999999u /* largest job number `wait` accepts */
#define SHELL_MSG_MAX    96u     /* bytes in shell_error.message, with NUL */

enum shell_cmd_kind {
    SHELL_CMD_NONE = 0, /* nothing parsed (empty line or error) */
    SHELL_CMD_HELP,
    SHELL_CMD_CAPS,
    SHELL_CMD_WHOAMI,
    SHELL_CMD_LOGIN,
    SHELL_CMD_SETUP,
    SHELL_CMD_GUEST,
    SHELL_CMD_LOGOUT,
    SHELL_CMD_JOBS,
    SHELL_CMD_CLEAR,
    SHELL_CMD_ECHO,
    SHELL_CMD_WAIT,
    SHELL_CMD_SPAWN,
    SHELL_CMD_RUN,
    SHELL_CMD_PROGRAMS,
    SHELL_CMD_MEMORY, /* the last: tests/fuzz/fuzz_shell_parse.c bounds kinds by it */
};

/* One `name: @cap` (client false) or `name: client @svc` (client true). The
 * offsets point into the parsed line, so the shell can put a caret under a
 * name that later turns out not to exist in the session. */
struct shell_grant {
    char name[SHELL_NAME_MAX + 1];   /* NUL-terminated identifier */
    char source[SHELL_NAME_MAX + 1]; /* capability or service, without '@' */
    bool client;
    uint32_t name_off, name_len;
    uint32_t source_off, source_len; /* the identifier after '@' */
};

struct shell_cmd {
    enum shell_cmd_kind kind;
    /* spawn, run */
    char binary[SHELL_NAME_MAX + 1]; /* NUL-terminated identifier */
    uint32_t binary_off, binary_len; /* the identifier, quotes excluded */
    uint32_t grant_count;            /* <= SHELL_GRANTS_MAX; names unique */
    struct shell_grant grants[SHELL_GRANTS_MAX];
    /* wait */
    bool has_job;
    uint32_t job; /* 1..SHELL_JOB_MAX when has_job */
    /* echo: line[text_off .. text_off + text_len), printable ASCII or tab */
    uint32_t text_off, text_len;
};

struct shell_error {
    uint32_t offset, length;     /* offset + length <= len; length 0 at the end */
    char message[SHELL_MSG_MAX]; /* NUL-terminated, printable ASCII */
};

enum shell_parse_status {
    SHELL_PARSE_OK = 0, /* *out holds a command */
    SHELL_PARSE_EMPTY,  /* nothing but spaces and tabs: not an error */
    SHELL_PARSE_ERROR,  /* *err says what and where */
};

/*
 * Parse line[0 .. len). out and err must not be NULL; both are always
 * fully written (zeroed where unused), so nothing stale survives. On error
 * out->kind is SHELL_CMD_NONE.
 */
enum shell_parse_status shell_parse(const char *line, size_t len, struct shell_cmd *out,
                                    struct shell_error *err);

/* The command word of a kind ("spawn"), or "" for SHELL_CMD_NONE. */
const char *shell_cmd_name(enum shell_cmd_kind kind);

/* Columns of the line shown by shell_render_error before it shows a window
 * around the error instead of the whole line. */
#define SHELL_RENDER_COLS 72u

/*
 * Render an error under its line, two lines each ending in "\n":
 *
 *     spawn "hello" wiht { }
 *                   ^^^^ expected 'with' or end of line
 *
 * Each byte of the line is shown as one column (a tab as a space, any other
 * byte that is not printable ASCII as '?'), so the carets line up. A line
 * longer than SHELL_RENDER_COLS is shown as a window around the error with
 * "..." on the cut sides. The output is truncated to fit buf (always NUL-
 * terminated when size > 0). Returns the number of bytes written, not
 * counting the NUL. err must come from shell_parse on the same line.
 */
size_t shell_render_error(const char *line, size_t len, const struct shell_error *err, char *buf,
                          size_t size);

#endif
