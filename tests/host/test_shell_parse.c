/*
 * Host tests for the capos-shell command-line parser (lib/text/shell_parse.c).
 * Every line is parsed from an exactly sized heap copy with no NUL after
 * it, so ASan catches any read past len. Errors are asserted exactly:
 * offset, length and message, because they are what the user sees.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/shell_parse.h"

static struct shell_cmd cmd;
static struct shell_error err;
static char *copy; /* the last parsed line, exactly sized */
static size_t copy_len;

static enum shell_parse_status parse_n(const char *s, size_t n)
{
    free(copy);
    copy = malloc(n ? n : 1);
    cr_assert_not_null(copy);
    memcpy(copy, s, n);
    copy_len = n;
    return shell_parse(copy, n, &cmd, &err);
}

static enum shell_parse_status parse(const char *s)
{
    return parse_n(s, strlen(s));
}

static void ok(const char *s, enum shell_cmd_kind kind)
{
    enum shell_parse_status st = parse(s);
    cr_assert_eq(st, SHELL_PARSE_OK, "\"%s\": status %d, error at %u+%u: %s", s, st, err.offset,
                 err.length, err.message);
    cr_assert_eq(cmd.kind, kind, "\"%s\": kind %d, expected %d", s, cmd.kind, kind);
    cr_assert_eq(err.message[0], '\0');
}

static void bad_n(const char *s, size_t n, uint32_t off, uint32_t len, const char *msg)
{
    enum shell_parse_status st = parse_n(s, n);
    cr_assert_eq(st, SHELL_PARSE_ERROR, "\"%.*s\": status %d, expected an error", (int)n, s, st);
    cr_assert_eq(cmd.kind, SHELL_CMD_NONE);
    cr_assert_str_eq(err.message, msg, "\"%.*s\"", (int)n, s);
    cr_assert_eq(err.offset, off, "\"%.*s\": offset %u, expected %u (%s)", (int)n, s, err.offset,
                 off, msg);
    cr_assert_eq(err.length, len, "\"%.*s\": length %u, expected %u (%s)", (int)n, s, err.length,
                 len, msg);
    cr_assert_leq((size_t)err.offset + err.length, n);
}

static void bad(const char *s, uint32_t off, uint32_t len, const char *msg)
{
    bad_n(s, strlen(s), off, len, msg);
}

static void grant_is(uint32_t i, const char *name, const char *source, bool client)
{
    cr_assert_lt(i, cmd.grant_count);
    const struct shell_grant *g = &cmd.grants[i];
    cr_assert_str_eq(g->name, name);
    cr_assert_str_eq(g->source, source);
    cr_assert_eq(g->client, client, "grant %u: client %d", i, g->client);
    /* The offsets point at the names in the line. */
    cr_assert_eq(g->name_len, strlen(name));
    cr_assert_eq(memcmp(copy + g->name_off, name, g->name_len), 0);
    cr_assert_eq(g->source_len, strlen(source));
    cr_assert_eq(memcmp(copy + g->source_off, source, g->source_len), 0);
}

/* ---- Commands ---- */

Test(shell_parse, no_argument_commands)
{
    static const struct {
        const char *line;
        enum shell_cmd_kind kind;
    } cases[] = {
        {"help", SHELL_CMD_HELP},     {"caps", SHELL_CMD_CAPS},
        {"whoami", SHELL_CMD_WHOAMI}, {"login", SHELL_CMD_LOGIN},
        {"setup", SHELL_CMD_SETUP},   {"guest", SHELL_CMD_GUEST},
        {"logout", SHELL_CMD_LOGOUT}, {"jobs", SHELL_CMD_JOBS},
        {"clear", SHELL_CMD_CLEAR},   {"programs", SHELL_CMD_PROGRAMS},
        {"memory", SHELL_CMD_MEMORY},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ok(cases[i].line, cases[i].kind);
        cr_assert_str_eq(shell_cmd_name(cases[i].kind), cases[i].line);
        char padded[64];
        snprintf(padded, sizeof(padded), " \t %s \t ", cases[i].line);
        ok(padded, cases[i].kind);
    }
    cr_assert_str_eq(shell_cmd_name(SHELL_CMD_NONE), "");
    cr_assert_str_eq(shell_cmd_name(SHELL_CMD_SPAWN), "spawn");
    cr_assert_str_eq(shell_cmd_name(SHELL_CMD_RUN), "run");
}

Test(shell_parse, extra_words_are_refused)
{
    bad("help me", 5, 2, "'help' takes no arguments");
    bad("  caps   all of them", 9, 3, "'caps' takes no arguments");
    bad("login @x", 6, 2, "'login' takes no arguments");
    bad("logout \"x\"", 7, 3, "'logout' takes no arguments");
    bad("jobs {", 5, 1, "'jobs' takes no arguments");
    bad("clear\t,", 6, 1, "'clear' takes no arguments");
}

Test(shell_parse, empty_lines)
{
    cr_assert_eq(parse(""), SHELL_PARSE_EMPTY);
    cr_assert_eq(parse("    "), SHELL_PARSE_EMPTY);
    cr_assert_eq(parse(" \t \t"), SHELL_PARSE_EMPTY);
    cr_assert_eq(cmd.kind, SHELL_CMD_NONE);
    cr_assert_eq(err.message[0], '\0');
    cr_assert_eq(shell_parse(NULL, 0, &cmd, &err), SHELL_PARSE_EMPTY);
}

Test(shell_parse, echo)
{
    ok("echo hello  world ", SHELL_CMD_ECHO);
    cr_assert_eq(cmd.text_off, 5);
    cr_assert_eq(cmd.text_len, 13);
    ok("echo", SHELL_CMD_ECHO);
    cr_assert_eq(cmd.text_off, 4);
    cr_assert_eq(cmd.text_len, 0);
    ok("echo ", SHELL_CMD_ECHO);
    cr_assert_eq(cmd.text_off, 5);
    cr_assert_eq(cmd.text_len, 0);
    /* One separator is eaten, the rest is text as typed. */
    ok("  echo   x", SHELL_CMD_ECHO);
    cr_assert_eq(cmd.text_off, 7);
    cr_assert_eq(cmd.text_len, 3);
    ok("echo\tspawn \"x\" with { @ } \"", SHELL_CMD_ECHO);
    cr_assert_eq(cmd.text_off, 5);
    cr_assert_eq(cmd.text_len, copy_len - 5);
    ok("echo a\tb", SHELL_CMD_ECHO);
    cr_assert_eq(cmd.text_len, 3);

    bad("echo\"x\"", 4, 1, "expected a space after 'echo'");
    bad("echo a\x01z", 6, 1, "unexpected character '\\x01'");
    bad("echo caf\xc3\xa9", 8, 1, "unexpected character '\\xc3'");
    bad("echo \x1b[2J", 5, 1, "unexpected character '\\x1b'");
    bad("echo\x7f", 4, 1, "unexpected character '\\x7f'");
    bad_n("echo a\0b", 8, 6, 1, "unexpected character '\\x00'");
    /* "echox" is one word. */
    bad("echox", 0, 5, "unknown command 'echox' (did you mean 'echo'?)");
}

Test(shell_parse, wait)
{
    ok("wait", SHELL_CMD_WAIT);
    cr_assert(!cmd.has_job);
    ok("wait 3", SHELL_CMD_WAIT);
    cr_assert(cmd.has_job);
    cr_assert_eq(cmd.job, 3);
    ok(" wait\t999999 ", SHELL_CMD_WAIT);
    cr_assert_eq(cmd.job, 999999);
    ok("wait 007", SHELL_CMD_WAIT);
    cr_assert_eq(cmd.job, 7);

    bad("wait 0", 5, 1, "job number out of range (1..999999)");
    bad("wait 1000000", 5, 7, "job number out of range (1..999999)");
    bad("wait 4294967296", 5, 10, "job number out of range (1..999999)");
    bad("wait 4294967297", 5, 10, "job number out of range (1..999999)");
    bad("wait 99999999999999999999999", 5, 23, "job number out of range (1..999999)");
    bad("wait x1", 5, 2, "expected a job number (digits only)");
    bad("wait 1.5", 5, 3, "expected a job number (digits only)");
    bad("wait +1", 5, 1, "unexpected character '+'");
    bad("wait %1", 5, 1, "unexpected character '%'");
    bad("wait @1", 5, 2, "expected a job number or end of line");
    bad("wait 1 2", 7, 1, "expected end of line after the job number");
}

/* ---- spawn and run ---- */

Test(shell_parse, spawn_binary_forms)
{
    ok("spawn \"hello\"", SHELL_CMD_SPAWN);
    cr_assert_str_eq(cmd.binary, "hello");
    cr_assert_eq(cmd.binary_off, 7);
    cr_assert_eq(cmd.binary_len, 5);
    cr_assert_eq(cmd.grant_count, 0);
    ok("spawn hello", SHELL_CMD_SPAWN);
    cr_assert_str_eq(cmd.binary, "hello");
    cr_assert_eq(cmd.binary_off, 6);
    ok("run \"echo-server_2.x\"", SHELL_CMD_RUN);
    cr_assert_str_eq(cmd.binary, "echo-server_2.x");
    ok("run\t\"a\"\t", SHELL_CMD_RUN);
    cr_assert_str_eq(cmd.binary, "a");
    ok("spawn\"hello\"", SHELL_CMD_SPAWN);
    cr_assert_str_eq(cmd.binary, "hello");
    /* 31 bytes is the longest name. */
    ok("spawn \"abcdefghijklmnopqrstuvwxyz01234\"", SHELL_CMD_SPAWN);
    cr_assert_eq(strlen(cmd.binary), 31);
}

Test(shell_parse, grant_forms)
{
    ok("spawn \"hello\" with { console: @console, echo: client @server }", SHELL_CMD_SPAWN);
    cr_assert_eq(cmd.grant_count, 2);
    grant_is(0, "console", "console", false);
    grant_is(1, "echo", "server", true);

    ok("run \"hello\" with { }", SHELL_CMD_RUN);
    cr_assert_eq(cmd.grant_count, 0);
    ok("run \"hello\" with {}", SHELL_CMD_RUN);
    cr_assert_eq(cmd.grant_count, 0);

    /* Trailing comma, no spaces at all, then lots of them. */
    ok("spawn \"a\" with { x: @y, }", SHELL_CMD_SPAWN);
    grant_is(0, "x", "y", false);
    ok("spawn\"a\"with{x:@y,z:client@w,}", SHELL_CMD_SPAWN);
    cr_assert_eq(cmd.grant_count, 2);
    grant_is(0, "x", "y", false);
    grant_is(1, "z", "w", true);
    ok("  spawn \t \"a\"  with \t{\t x \t: \t@y \t,\t z:client   @w\t}\t ", SHELL_CMD_SPAWN);
    grant_is(0, "x", "y", false);
    grant_is(1, "z", "w", true);

    /* Keywords are ordinary names where a name is expected. */
    ok("spawn with with { client: client @with, with: @client }", SHELL_CMD_SPAWN);
    cr_assert_str_eq(cmd.binary, "with");
    grant_is(0, "client", "with", true);
    grant_is(1, "with", "client", false);

    /* The same source twice under two names is fine. */
    ok("spawn \"a\" with { a: @c, b: @c }", SHELL_CMD_SPAWN);
    cr_assert_eq(cmd.grant_count, 2);
}

Test(shell_parse, sixteen_grants_and_not_seventeen)
{
    char line[1024];
    size_t n = (size_t)snprintf(line, sizeof(line), "run \"a\" with {");
    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, " g%d: @c%d,", i, i);
    snprintf(line + n, sizeof(line) - n, " }");
    ok(line, SHELL_CMD_RUN);
    cr_assert_eq(cmd.grant_count, 16);
    grant_is(15, "g15", "c15", false);

    snprintf(line + n, sizeof(line) - n, " g16: @c16 }");
    uint32_t at = (uint32_t)(strstr(line, "g16") - line);
    bad(line, at, 3, "too many grants (at most 16)");
}

Test(shell_parse, spawn_errors)
{
    bad("spawn \"hello\" wiht { }", 14, 4, "expected 'with' or end of line");
    bad("spawn \"hello\" with a: @b }", 19, 1, "expected '{' after 'with'");
    bad("spawn \"a\" with", 14, 0, "expected '{' after 'with'");
    bad("spawn \"hello\" with { a: @b", 26, 0, "missing '}' at end of line");
    bad("spawn \"a\" with {", 16, 0, "missing '}' at end of line");
    bad("spawn \"a\" with { a: @b,", 23, 0, "missing '}' at end of line");
    bad("spawn \"hello\" with { a @b }", 23, 2, "expected ':' after 'a'");
    bad("spawn \"hello\" with { a: b }", 24, 1, "expected '@capability' or 'client @service'");
    bad("spawn \"hello\" with { a: }", 24, 1, "expected '@capability' or 'client @service'");
    bad("spawn \"hello\" with { a: client b }", 31, 1, "expected '@service' after 'client'");
    bad("spawn \"hello\" with { a: client }", 31, 1, "expected '@service' after 'client'");
    bad("spawn \"hello\" with { a: @ b }", 24, 1, "expected a name right after '@'");
    bad("spawn \"a\" with { a: @b,, }", 23, 1, "expected a grant name or '}'");
    bad("spawn \"a\" with { , }", 17, 1, "expected a grant name or '}'");
    bad("spawn \"a\" with { a: @b c: @d }", 23, 1, "expected ',' or '}'");
    bad("spawn \"a\" with { } extra", 19, 5, "expected end of line after '}'");
    bad("spawn \"a\" with { } }", 19, 1, "expected end of line after '}'");
    bad("spawn", 5, 0, "expected a binary name, e.g. \"hello\"");
    bad("run {", 4, 1, "expected a binary name, e.g. \"hello\"");
    bad("spawn \"\"", 6, 2, "empty binary name");
    bad("spawn \"a\" with { stdio: @c, stdio: @d }", 28, 5, "duplicate grant name 'stdio'");
}

Test(shell_parse, bad_identifiers)
{
    bad("spawn \"hel lo\"", 10, 1,
        "unexpected character ' ' in a name (expected letters, digits, '_', '.', '-')");
    bad("spawn \"a/b\"", 8, 1,
        "unexpected character '/' in a name (expected letters, digits, '_', '.', '-')");
    bad("spawn hello with { a$: @b }", 20, 1, "unexpected character '$'");
    bad("spawn hello with { a: @b$ }", 24, 1, "unexpected character '$'");
    bad("spawn a/b", 7, 1, "unexpected character '/'");
    bad("spawn \"hello", 6, 6, "unterminated string (expected '\"')");
    bad("spawn \"", 6, 1, "unterminated string (expected '\"')");
}

Test(shell_parse, names_too_long)
{
    const char *n32 = "abcdefghijklmnopqrstuvwxyz012345"; /* 32 bytes */
    char line[256];
    snprintf(line, sizeof(line), "spawn \"%s\"", n32);
    bad(line, 7, 32, "name too long (at most 31 bytes)");
    snprintf(line, sizeof(line), "spawn %s", n32);
    bad(line, 6, 32, "name too long (at most 31 bytes)");
    snprintf(line, sizeof(line), "spawn a with { %s: @b }", n32);
    bad(line, 15, 32, "name too long (at most 31 bytes)");
    snprintf(line, sizeof(line), "spawn a with { b: @%s }", n32);
    bad(line, 19, 32, "name too long (at most 31 bytes)");
    snprintf(line, sizeof(line), "spawn a with { b: client @%s }", n32);
    bad(line, 26, 32, "name too long (at most 31 bytes)");
}

/* ---- Hostile lines ---- */

Test(shell_parse, unknown_commands)
{
    bad("lgoin", 0, 5, "unknown command 'lgoin' (did you mean 'login'?)");
    bad("  HELP", 2, 4, "unknown command 'HELP' (did you mean 'help'?)");
    bad("sapwn \"a\"", 0, 5, "unknown command 'sapwn' (did you mean 'spawn'?)");
    bad("logot", 0, 5, "unknown command 'logot' (did you mean 'logout'?)");
    bad("frobnicate", 0, 10, "unknown command 'frobnicate' (try 'help')");
    bad("exit", 0, 4, "unknown command 'exit' (try 'help')");
    bad("ls -l", 0, 2, "unknown command 'ls' (try 'help')");
    /* A long word is cut in the message, not in the offsets. */
    bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 40,
        "unknown command 'aaaaaaaaaaaaaaaaaaaaaaaa...' (try 'help')");
    bad("\"hello\"", 0, 7, "expected a command (try 'help')");
    bad("@caps", 0, 5, "expected a command (try 'help')");
    bad("{", 0, 1, "expected a command (try 'help')");
}

Test(shell_parse, control_and_high_bytes)
{
    bad("help\x07", 4, 1, "unexpected character '\\x07'");
    bad_n("help\0", 5, 4, 1, "unexpected character '\\x00'");
    bad_n("\0help", 5, 0, 1, "unexpected character '\\x00'");
    bad_n("spawn \"a\0\"", 10, 8, 1,
          "unexpected character '\\x00' in a name (expected letters, digits, '_', '.', '-')");
    bad("help \xff", 5, 1, "unexpected character '\\xff'");
    bad("\xc3\xa9", 0, 1, "unexpected character '\\xc3'");
    bad("help\r\n", 4, 1, "unexpected character '\\x0d'");
    bad("spawn \"a\" with { a: @b }\x9b", 24, 1, "unexpected character '\\x9b'");
}

Test(shell_parse, line_length_limit)
{
    char *line = malloc(10240);
    memcpy(line, "echo ", 5);
    memset(line + 5, 'x', 10240 - 5);
    cr_assert_eq(parse_n(line, SHELL_LINE_MAX), SHELL_PARSE_OK);
    cr_assert_eq(cmd.text_len, SHELL_LINE_MAX - 5);
    bad_n(line, SHELL_LINE_MAX + 1, 1024, 1, "line too long (at most 1024 bytes)");
    bad_n(line, 10240, 1024, 10240 - 1024, "line too long (at most 1024 bytes)");
    /* Garbage of every byte value: refused by length alone. */
    for (size_t i = 0; i < 10240; i++)
        line[i] = (char)(i * 131 + 7);
    bad_n(line, 10240, 1024, 10240 - 1024, "line too long (at most 1024 bytes)");
    free(line);
}

Test(shell_parse, every_byte_alone_and_after_a_command)
{
    /* No byte value crashes or produces an error outside the line. */
    for (int c = 0; c < 256; c++) {
        char one = (char)c;
        enum shell_parse_status st = parse_n(&one, 1);
        if (st == SHELL_PARSE_ERROR)
            cr_assert_leq((size_t)err.offset + err.length, 1);
        char line[] = "spawn \"a\" with { b: @c, d: client @e }?";
        line[sizeof(line) - 2] = (char)c;
        st = parse_n(line, sizeof(line) - 1);
        if (c == ' ' || c == '\t')
            cr_assert_eq(st, SHELL_PARSE_OK);
        else
            cr_assert_eq(st, SHELL_PARSE_ERROR, "byte %d", c);
    }
}

Test(shell_parse, error_leaves_nothing_behind)
{
    bad("spawn \"a\" with { b: @c, b: @d }", 24, 1, "duplicate grant name 'b'");
    cr_assert_eq(cmd.grant_count, 0);
    cr_assert_eq(cmd.binary[0], '\0');
    ok("help", SHELL_CMD_HELP);
    cr_assert_eq(err.offset, 0);
    cr_assert_eq(err.length, 0);
}

/* ---- Caret rendering ---- */

static const char *render(const char *line)
{
    static char out[512];
    parse(line);
    shell_render_error(copy, copy_len, &err, out, sizeof(out));
    return out;
}

Test(shell_render, carets_under_the_error)
{
    cr_assert_str_eq(render("spawn \"hello\" wiht { }"),
                     "  spawn \"hello\" wiht { }\n"
                     "                ^^^^ expected 'with' or end of line\n");
    /* At the end of the line: one caret just past the last byte. */
    cr_assert_str_eq(render("spawn"), "  spawn\n"
                                      "       ^ expected a binary name, e.g. \"hello\"\n");
    /* Non-printable bytes are shown as '?', tabs as one space. */
    cr_assert_str_eq(render("help\x07"), "  help?\n"
                                         "      ^ unexpected character '\\x07'\n");
    cr_assert_str_eq(render("help\tme"), "  help me\n"
                                         "       ^^ 'help' takes no arguments\n");
}

Test(shell_render, long_line_window)
{
    static char line[10240];
    memset(line, 'x', sizeof(line));
    cr_assert_eq(parse_n(line, sizeof(line)), SHELL_PARSE_ERROR);
    char out[512];
    size_t n = shell_render_error(copy, copy_len, &err, out, sizeof(out));
    cr_assert_eq(n, strlen(out));
    /* "  ..." + 72 columns + "...\n", then the carets under offset 1024,
     * which is column 36 of the window. */
    char *nl = strchr(out, '\n');
    cr_assert_not_null(nl);
    cr_assert_eq(nl - out, 2 + 3 + SHELL_RENDER_COLS + 3);
    cr_assert_eq(strncmp(out, "  ...xxx", 8), 0);
    cr_assert_eq(strncmp(nl - 3, "...", 3), 0);
    const char *second = nl + 1;
    size_t spaces = strspn(second, " ");
    cr_assert_eq(spaces, 2 + 3 + SHELL_RENDER_COLS / 2);
    cr_assert_eq(strspn(second + spaces, "^"), SHELL_RENDER_COLS / 2);
    cr_assert_str_eq(second + spaces + SHELL_RENDER_COLS / 2,
                     " line too long (at most 1024 bytes)\n");

    /* An error near the start of a long line: no "..." on the left. */
    memcpy(line, "help $", 6);
    cr_assert_eq(parse_n(line, 100), SHELL_PARSE_ERROR);
    shell_render_error(copy, copy_len, &err, out, sizeof(out));
    cr_assert_eq(strncmp(out, "  help $xx", 10), 0);
    cr_assert_eq(strncmp(strchr(out, '\n') + 1, "       ^ unexpected character '$'\n", 35), 0);
}

Test(shell_render, truncation_is_safe)
{
    const char *line = "spawn \"hello\" with { a: @b,, }";
    parse(line);
    char full[512];
    size_t total = shell_render_error(copy, copy_len, &err, full, sizeof(full));
    cr_assert_eq(total, strlen(full));
    for (size_t size = 0; size <= total + 2; size++) {
        char buf[600];
        memset(buf, 'G', sizeof(buf));
        size_t n = shell_render_error(copy, copy_len, &err, buf, size);
        if (size == 0) {
            cr_assert_eq(n, 0);
            cr_assert_eq(buf[0], 'G');
            continue;
        }
        cr_assert_eq(n, size - 1 < total ? size - 1 : total);
        cr_assert_eq(buf[n], '\0');
        cr_assert_eq(memcmp(buf, full, n), 0);
        cr_assert_eq(buf[size], 'G', "size %zu: wrote past the buffer", size);
    }
    cr_assert_eq(shell_render_error(copy, copy_len, &err, NULL, 0), 0);
}

Test(shell_render, bogus_error_is_clamped)
{
    struct shell_error e = {.offset = 1000, .length = 1000};
    strcpy(e.message, "bogus\x01");
    char out[128];
    shell_render_error("help", 4, &e, out, sizeof(out));
    cr_assert_str_eq(out, "  help\n      ^ bogus?\n");
    e.offset = 1;
    e.length = 1000;
    shell_render_error("help", 4, &e, out, sizeof(out));
    cr_assert_str_eq(out, "  help\n   ^^^ bogus?\n");
    shell_render_error("", 0, &e, out, sizeof(out));
    cr_assert_str_eq(out, "  \n  ^ bogus?\n");
}
