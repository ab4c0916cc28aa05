/*
 * capos-shell: reads a command line from the terminal, parses it
 * (lib/text/shell_parse.c: every mistake points at the offending word) and runs
 * it. Starts anonymous; see session.c for logging in and jobs.c for
 * starting programs.
 */
#include <string.h>

#include "shell.h"
#include "text/fmt.h"
#include "text/shell_parse.h"

static const char help_text[] =
    "Commands:\r\n"
    "  help                 this text\r\n"
    "  caps                 the capabilities this shell holds, with their interfaces\r\n"
    "  whoami               the session's profile and user\r\n"
    "  setup                create the operator account (once) and log in\r\n"
    "  login                log in (asks username> and a hidden password>)\r\n"
    "  guest                become a guest (if the system offers it)\r\n"
    "  logout               end the session's jobs, revoke its capabilities: anonymous\r\n"
    "                       (login, setup and guest log a live session out first)\r\n"
    "  programs             the programs this session may start\r\n"
    "  memory               memory per process: quota, pages, page tables, kernel heap\r\n"
    "  spawn \"bin\" [with { name: @cap, other: client @svc }]\r\n"
    "                       start a program with exactly these grants (plus its own\r\n"
    "                       stdio); only the session's capabilities can be granted\r\n"
    "  run \"bin\" [with {...}] spawn, then wait for it\r\n"
    "  wait [job]           wait for a job (or all)\r\n"
    "  jobs                 list jobs\r\n"
    "  echo text            print text\r\n"
    "  clear                clear the screen\r\n"
    "Keys: Backspace, Ctrl-U (erase line), Ctrl-W (erase word), Ctrl-C (cancel line),\r\n"
    "Up/Down (history).\r\n";

/* The parser's caret lines end in "\n"; the terminal wants "\r\n". */
static void show_error(const char *line, size_t len, const struct shell_error *err)
{
    char out[512];
    size_t n = shell_render_error(line, len, err, out, sizeof(out));
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '\n') {
            term_write(out + start, i - start);
            term_write("\r\n", 2);
            start = i + 1;
        }
    }
    term_write(out + start, n - start);
}

static void prompt_for(char *buf, size_t size)
{
    const char *who = sh.profile == UserSession_Profile_operator ? sh.principal
                      : sh.profile == UserSession_Profile_guest  ? "guest"
                                                                 : "anonymous";
    fmt_snprintf(buf, size, "capos [%s]> ", who);
}

static void run_command(const char *line, size_t len)
{
    static struct shell_cmd cmd;
    struct shell_error err;
    switch (shell_parse(line, len, &cmd, &err)) {
    case SHELL_PARSE_EMPTY:
        return;
    case SHELL_PARSE_ERROR:
        show_error(line, len, &err);
        return;
    case SHELL_PARSE_OK:
        break;
    }
    switch (cmd.kind) {
    case SHELL_CMD_HELP:
        term_puts(help_text);
        break;
    case SHELL_CMD_CAPS:
        cmd_caps();
        break;
    case SHELL_CMD_WHOAMI:
        cmd_whoami();
        break;
    case SHELL_CMD_LOGIN:
        cmd_login();
        break;
    case SHELL_CMD_SETUP:
        cmd_setup();
        break;
    case SHELL_CMD_GUEST:
        cmd_guest();
        break;
    case SHELL_CMD_LOGOUT:
        cmd_logout();
        break;
    case SHELL_CMD_JOBS:
        jobs_list();
        break;
    case SHELL_CMD_PROGRAMS:
        cmd_programs();
        break;
    case SHELL_CMD_MEMORY:
        cmd_memory();
        break;
    case SHELL_CMD_CLEAR:
        term_puts("\x1b[2J\x1b[H");
        break;
    case SHELL_CMD_ECHO:
        term_write(line + cmd.text_off, cmd.text_len);
        term_puts("\r\n");
        break;
    case SHELL_CMD_WAIT:
        jobs_wait(cmd.has_job, cmd.job);
        break;
    case SHELL_CMD_SPAWN:
    case SHELL_CMD_RUN:
        jobs_spawn(line, &cmd, cmd.kind == SHELL_CMD_RUN);
        break;
    case SHELL_CMD_NONE:
        break;
    }
}

int main(void)
{
    session_init();
    session_greet();
    static char line[SHELL_LINE_MAX + 1];
    for (;;) {
        char prompt[64];
        size_t len;
        prompt_for(prompt, sizeof(prompt));
        int st = term_read_line(prompt, false, line, sizeof(line), &len);
        if (st < 0) {
            capos_printf("capos-shell: the terminal is gone\n");
            session_end_on_exit();
            return 1;
        }
        if (st == TerminalSession_LineStatus_tooLong)
            term_puts("capos-shell: line too long (at most 1024 bytes): ignored\r\n");
        else if (st == TerminalSession_LineStatus_endOfInput)
            term_puts("capos-shell: end of input ignored (use 'logout')\r\n");
        else if (st == TerminalSession_LineStatus_ok)
            run_command(line, len);
    }
}
