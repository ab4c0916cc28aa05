/*
 * Host tests for the capos-shell line editor (lib/text/line_edit.c). Bytes are
 * fed one at a time, as the terminal delivers them; the echo is collected
 * and compared byte for byte, since it is what the terminal shows.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/line_edit.h"

static struct line_edit ed; /* large: not on the stack */
static char obuf[LINE_EDIT_OUT_MAX * 4];
static struct line_out out;
static enum line_event events[64];
static size_t nevents;

static void setup(void)
{
    line_edit_init(&ed);
    line_out_init(&out, obuf, sizeof(obuf));
    nevents = 0;
}

/* Start collecting output afresh. */
static void clear_out(void)
{
    line_out_init(&out, obuf, sizeof(obuf));
    nevents = 0;
}

/* Feed n bytes; returns the event of the last byte, and records every
 * event on the way. */
static enum line_event type_n(const char *s, size_t n)
{
    enum line_event ev = LINE_NONE;
    for (size_t i = 0; i < n; i++) {
        ev = line_edit_feed(&ed, (uint8_t)s[i], &out);
        if (ev != LINE_NONE && nevents < 64)
            events[nevents++] = ev;
    }
    return ev;
}

static enum line_event type(const char *s)
{
    return type_n(s, strlen(s));
}

static void echo_is(const char *expect)
{
    size_t n = strlen(expect);
    cr_assert(!out.truncated);
    cr_assert_eq(out.len, n, "echo is %zu bytes \"%.*s\", expected %zu \"%s\"", out.len,
                 (int)out.len, obuf, n, expect);
    cr_assert_eq(memcmp(obuf, expect, n), 0, "echo \"%.*s\", expected \"%s\"", (int)out.len, obuf,
                 expect);
}

static void line_is(const char *expect)
{
    size_t n;
    const char *l = line_edit_line(&ed, &n);
    cr_assert_eq(n, strlen(expect), "line is %zu bytes \"%.*s\"", n, (int)n, l);
    cr_assert_str_eq(l, expect);
}

/* Enter a line and start the next, as the shell does. */
static void enter_line(const char *s)
{
    cr_assert_eq(type(s), LINE_NONE);
    cr_assert_eq(type("\r"), LINE_DONE);
    line_edit_start(&ed, false);
    clear_out();
}

TestSuite(line_edit, .init = setup);

Test(line_edit, typing_and_enter)
{
    cr_assert_eq(type("help"), LINE_NONE);
    cr_assert_eq(type("\r"), LINE_DONE);
    echo_is("help\r\n");
    line_is("help");
    cr_assert_eq(nevents, 1);

    line_edit_start(&ed, false);
    clear_out();
    line_is("");
    cr_assert_eq(type("spawn \"x\" with { a: @b }\n"), LINE_DONE);
    line_is("spawn \"x\" with { a: @b }");
    echo_is("spawn \"x\" with { a: @b }\r\n");
}

Test(line_edit, empty_enter)
{
    cr_assert_eq(type("\r"), LINE_DONE);
    line_is("");
    echo_is("\r\n");
    cr_assert_eq(line_edit_history_count(&ed), 0);
}

Test(line_edit, cr_lf_is_one_enter)
{
    cr_assert_eq(type("ls\r"), LINE_DONE);
    line_edit_start(&ed, false);
    clear_out();
    /* The LF of CR LF, arriving after the shell started the next line. */
    cr_assert_eq(type("\n"), LINE_NONE);
    echo_is("");
    cr_assert_eq(type("x\n"), LINE_DONE);
    line_is("x");
    /* LF alone is an Enter; so is each CR of CR CR, and LF CR. */
    line_edit_start(&ed, false);
    cr_assert_eq(type("\n"), LINE_DONE);
    cr_assert_eq(type("\r"), LINE_DONE);
    cr_assert_eq(type("\r"), LINE_DONE);
    cr_assert_eq(type("\n"), LINE_NONE);
    cr_assert_eq(type("\n"), LINE_DONE);
    /* Only a LF right after the CR is eaten. */
    cr_assert_eq(type("\ra"), LINE_NONE);
    cr_assert_eq(type("\n"), LINE_DONE);
    line_is("a");
}

Test(line_edit, backspace)
{
    cr_assert_eq(type("\x7f\x08\x7f"), LINE_NONE);
    echo_is("");
    line_is("");
    type("ab\x7f");
    echo_is("ab\b \b");
    line_is("a");
    clear_out();
    type("\x08\x08\x08"
         "c");
    echo_is("\b \bc");
    line_is("c");
}

Test(line_edit, ctrl_w_deletes_a_word)
{
    type("spawn hello  ");
    clear_out();
    type("\x17");
    echo_is("\b \b\b \b\b \b\b \b\b \b\b \b\b \b");
    line_is("spawn ");
    type("\x17\x17");
    line_is("");
}

Test(line_edit, ctrl_u_clears_the_line)
{
    type("abc");
    clear_out();
    type("\x15");
    echo_is("\b \b\b \b\b \b");
    line_is("");
    clear_out();
    type("\x15");
    echo_is("");
    cr_assert_eq(type("d\r"), LINE_DONE);
    line_is("d");
}

Test(line_edit, ctrl_c_cancels)
{
    cr_assert_eq(type("abc\x03"), LINE_CANCEL);
    echo_is("abc^C\r\n");
    line_is("");
    cr_assert_eq(line_edit_history_count(&ed), 0);
    /* The next byte starts a new line even without line_edit_start. */
    clear_out();
    cr_assert_eq(type("ok\r"), LINE_DONE);
    line_is("ok");
    echo_is("ok\r\n");
}

Test(line_edit, ctrl_d)
{
    cr_assert_eq(type("\x04"), LINE_EOF);
    echo_is("");
    line_edit_start(&ed, false);
    /* Ignored on a line with something in it. */
    cr_assert_eq(type("a\x04"), LINE_NONE);
    line_is("a");
    cr_assert_eq(type("\x7f\x04"), LINE_EOF);
}

Test(line_edit, other_controls_ignored)
{
    for (int c = 0; c < 0x80; c++) {
        if (c >= 0x20 && c < 0x7f)
            continue;
        if (c == '\r' || c == '\n' || c == 3 || c == 4 || c == 8 || c == 0x15 || c == 0x17 ||
            c == 0x1b || c == 0x7f)
            continue;
        cr_assert_eq(line_edit_feed(&ed, (uint8_t)c, &out), LINE_NONE, "byte %d", c);
    }
    echo_is("");
    line_is("");
}

Test(line_edit, history_up_and_down)
{
    enter_line("one");
    enter_line("two");
    enter_line("three");
    cr_assert_eq(line_edit_history_count(&ed), 3);

    type("\x1b[A");
    echo_is("three");
    line_is("three");
    clear_out();
    /* Only what differs from the common prefix "t" is redrawn. */
    type("\x1b[A");
    echo_is("\b \b\b \b\b \b\b \bwo");
    line_is("two");
    clear_out();
    type("\x1bOA");
    echo_is("\b \b\b \b\b \bone");
    line_is("one");
    clear_out();
    /* Past the oldest: a bell, nothing changes. */
    type("\x1b[A");
    echo_is("\a");
    line_is("one");
    clear_out();
    type("\x1b[B\x1bOB");
    line_is("three");
    clear_out();
    /* Below the newest: the (empty) draft, then a bell. */
    type("\x1b[B");
    echo_is("\b \b\b \b\b \b\b \b\b \b");
    line_is("");
    clear_out();
    type("\x1b[B");
    echo_is("\a");
    /* A recalled line can be edited and entered. */
    type("\x1b[A\x7f\x7f\x7f\x7fwo\r");
    line_is("two");
    cr_assert_eq(line_edit_history_count(&ed), 4);
}

Test(line_edit, history_keeps_the_draft)
{
    enter_line("first");
    type("dra");
    type("\x1b[A");
    line_is("first");
    clear_out();
    type("\x1b[B");
    line_is("dra");
    echo_is("\b \b\b \b\b \b\b \b\b \bdra");
    cr_assert_eq(type("ft\r"), LINE_DONE);
    line_is("draft");
}

Test(line_edit, history_on_empty_history)
{
    type("\x1b[A\x1b[B");
    echo_is("\a\a");
    line_is("");
}

Test(line_edit, history_rules)
{
    enter_line("a");
    enter_line("a");   /* repeat of the newest: skipped */
    enter_line("");    /* empty: skipped */
    enter_line("   "); /* blank: skipped */
    enter_line("b");
    enter_line("a"); /* not consecutive: kept */
    cr_assert_eq(line_edit_history_count(&ed), 3);
    size_t n;
    cr_assert_str_eq(line_edit_history_get(&ed, 0, &n), "a");
    cr_assert_str_eq(line_edit_history_get(&ed, 1, &n), "b");
    cr_assert_str_eq(line_edit_history_get(&ed, 2, &n), "a");
    cr_assert_null(line_edit_history_get(&ed, 3, &n));

    /* Only the last LINE_EDIT_HISTORY lines are kept. */
    char l[16];
    for (int i = 0; i < 40; i++) {
        snprintf(l, sizeof(l), "cmd%d", i);
        enter_line(l);
    }
    cr_assert_eq(line_edit_history_count(&ed), LINE_EDIT_HISTORY);
    cr_assert_str_eq(line_edit_history_get(&ed, 0, &n), "cmd39");
    cr_assert_str_eq(line_edit_history_get(&ed, LINE_EDIT_HISTORY - 1, &n), "cmd24");
    /* Walking past the oldest stops at cmd24. */
    for (unsigned i = 0; i < LINE_EDIT_HISTORY + 5; i++)
        type("\x1b[A");
    line_is("cmd24");

    /* Direct adds obey the same rules. */
    line_edit_history_add(&ed, "x", 0);
    line_edit_history_add(&ed, "\t ", 2);
    line_edit_history_add(&ed, "cmd39", 5);
    cr_assert_str_eq(line_edit_history_get(&ed, 0, &n), "cmd39");
}

Test(line_edit, hidden_mode)
{
    enter_line("visible");
    line_edit_start(&ed, true);
    clear_out();
    cr_assert_eq(type("secret\x7f\x15pw\x17p4ss"), LINE_NONE);
    /* History keys do nothing, not even a bell. */
    type("\x1b[A\x1b[B\x1bOA");
    line_is("p4ss");
    echo_is("");
    cr_assert_eq(type("\r"), LINE_DONE);
    echo_is("\r\n");
    line_is("p4ss");
    cr_assert_eq(line_edit_history_count(&ed), 1);
    cr_assert_str_eq(line_edit_history_get(&ed, 0, NULL), "visible");

    /* Starting a new line wipes the password from the buffer. */
    line_edit_start(&ed, false);
    cr_assert_eq(memchr(ed.buf, 'p', sizeof(ed.buf)), NULL);

    /* Ctrl-C still shows, so the user sees the prompt was abandoned. */
    line_edit_start(&ed, true);
    clear_out();
    cr_assert_eq(type("abc\x03"), LINE_CANCEL);
    echo_is("^C\r\n");
    /* Bytes after an event without a start stay hidden. */
    clear_out();
    type("xyz");
    echo_is("");
}

Test(line_edit, escape_sequences_ignored)
{
    /* Right, Ctrl-Left, bracketed paste markers, F1, F5, Alt-x, Delete. */
    type("a\x1b[C\x1b[1;5D\x1b[200~b\x1b[201~\x1bOP\x1b[15~\x1bx\x1b[3~c");
    line_is("abc");
    echo_is("abc");
    /* ESC [ 1 A is not a plain Up. */
    line_edit_start(&ed, false);
    enter_line("h");
    type("\x1b[1A\x1b[?25h");
    line_is("");
    /* A new ESC replaces an open sequence. */
    type("\x1b[1\x1b[A");
    line_is("h");
}

Test(line_edit, unterminated_escape_does_not_eat_enter)
{
    cr_assert_eq(type("ab\x1b[12\r"), LINE_DONE);
    line_is("ab");
    cr_assert_eq(type("ab\x1b\r"), LINE_DONE);
    line_is("ab");
    cr_assert_eq(type("ab\x1bO\r"), LINE_DONE);
    line_is("ab");
    /* Backspace and Ctrl-C also end a sequence and then act. */
    type("ab\x1b[\x7f");
    line_is("a");
    cr_assert_eq(type("\x1b[5\x03"), LINE_CANCEL);
    /* A high byte ends it and is dropped. */
    type("\x1b[\xc3"
         "A");
    line_is("A");
}

Test(line_edit, overlong_escape_is_abandoned)
{
    /* ESC [ then 20 parameter bytes: LINE_EDIT_ESC_MAX are swallowed, the
     * rest is ordinary input. */
    type("\x1b["
         "9999999999999999"
         "0123");
    line_is("0123");
    /* A sequence of exactly the bound still ends normally. */
    line_edit_start(&ed, false);
    type("\x1b[1111111111111111~z");
    line_is("z");
}

Test(line_edit, garbage_line_too_long_then_normal)
{
    static char garbage[10240];
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (char)('!' + (i * 7) % 90);
    cr_assert_eq(type_n(garbage, sizeof(garbage)), LINE_NONE);
    /* The first LINE_EDIT_MAX bytes are echoed, then one bell. */
    cr_assert_eq(out.len, LINE_EDIT_MAX + 1);
    cr_assert_eq(memcmp(obuf, garbage, LINE_EDIT_MAX), 0);
    cr_assert_eq(obuf[LINE_EDIT_MAX], '\a');
    size_t n;
    line_edit_line(&ed, &n);
    cr_assert_eq(n, LINE_EDIT_MAX);
    clear_out();
    cr_assert_eq(type("\r"), LINE_TOO_LONG);
    echo_is("\r\n");
    line_is("");
    cr_assert_eq(line_edit_history_count(&ed), 0);

    line_edit_start(&ed, false);
    clear_out();
    cr_assert_eq(type("help\r"), LINE_DONE);
    line_is("help");
    echo_is("help\r\n");
}

Test(line_edit, overflow_is_sticky_until_cleared)
{
    static char full[LINE_EDIT_MAX + 10];
    memset(full, 'y', sizeof(full));
    type_n(full, sizeof(full));
    /* Making room does not make the line whole again. */
    type("\x7f\x7fzz");
    cr_assert_eq(type("\r"), LINE_TOO_LONG);
    /* Ctrl-U does. */
    type_n(full, sizeof(full));
    type("\x15ok");
    cr_assert_eq(type("\r"), LINE_DONE);
    line_is("ok");
    /* Browsing the history away from an overflowed draft and back keeps
     * the mark. */
    line_edit_start(&ed, false);
    type_n(full, sizeof(full));
    type("\x1b[A\x1b[B");
    cr_assert_eq(type("\r"), LINE_TOO_LONG);
    /* A full line that never overflowed is fine. */
    line_edit_start(&ed, false);
    type_n(full, LINE_EDIT_MAX);
    cr_assert_eq(type("\r"), LINE_DONE);
    size_t n;
    line_edit_line(&ed, &n);
    cr_assert_eq(n, LINE_EDIT_MAX);
    /* ...and it fits the history, and recalling it over another full line
     * stays within LINE_EDIT_OUT_MAX. */
    line_edit_start(&ed, false);
    memset(full, 'q', sizeof(full));
    type_n(full, LINE_EDIT_MAX);
    clear_out();
    type("\x1b[A");
    cr_assert_eq(out.len, LINE_EDIT_OUT_MAX);
}

Test(line_edit, hidden_overflow_is_silent)
{
    static char full[LINE_EDIT_MAX + 10];
    memset(full, 's', sizeof(full));
    line_edit_start(&ed, true);
    type_n(full, sizeof(full));
    echo_is("");
    cr_assert_eq(type("\r"), LINE_TOO_LONG);
}

Test(line_edit, output_truncation_is_safe)
{
    char small[8];
    memset(small, 'G', sizeof(small));
    struct line_out o;
    line_out_init(&o, small, 4);
    const char *s = "abcdef\x15";
    for (size_t i = 0; s[i]; i++)
        line_edit_feed(&ed, (uint8_t)s[i], &o);
    cr_assert_eq(o.len, 4);
    cr_assert(o.truncated);
    cr_assert_eq(memcmp(small, "abcdGGGG", 8), 0);
    line_is("");

    /* No buffer at all, or a zero-sized one: the editor still works. */
    line_out_init(&o, NULL, 100);
    cr_assert_eq(o.cap, 0);
    line_edit_feed(&ed, 'x', &o);
    cr_assert(o.truncated);
    cr_assert_eq(line_edit_feed(&ed, 'y', NULL), LINE_NONE);
    cr_assert_eq(line_edit_feed(&ed, '\r', NULL), LINE_DONE);
    line_is("xy");
}

Test(line_edit, feed_buf_stops_at_each_event)
{
    const uint8_t in[] = "one\r\ntwo\r\x03";
    size_t n = sizeof(in) - 1, at = 0;
    enum line_event ev;
    at += line_edit_feed_buf(&ed, in + at, n - at, &out, &ev);
    cr_assert_eq(at, 4);
    cr_assert_eq(ev, LINE_DONE);
    line_is("one");
    line_edit_start(&ed, false);
    at += line_edit_feed_buf(&ed, in + at, n - at, &out, &ev);
    cr_assert_eq(at, 9);
    cr_assert_eq(ev, LINE_DONE);
    line_is("two");
    line_edit_start(&ed, false);
    at += line_edit_feed_buf(&ed, in + at, n - at, &out, &ev);
    cr_assert_eq(at, 10);
    cr_assert_eq(ev, LINE_CANCEL);
    cr_assert_eq(line_edit_feed_buf(&ed, (const uint8_t *)"ab", 2, &out, &ev), 2);
    cr_assert_eq(ev, LINE_NONE);
    line_is("ab");
}

Test(line_edit, random_bytes_keep_invariants)
{
    /* Every byte value, in a fixed pseudo-random order, over many lines. */
    uint32_t x = 12345;
    for (int i = 0; i < 100000; i++) {
        x = x * 1103515245u + 12345u;
        uint8_t b = (uint8_t)(x >> 16);
        clear_out();
        enum line_event ev = line_edit_feed(&ed, b, &out);
        cr_assert_leq(out.len, LINE_EDIT_OUT_MAX);
        size_t n;
        const char *l = line_edit_line(&ed, &n);
        cr_assert_leq(n, LINE_EDIT_MAX);
        cr_assert_eq(l[n], '\0');
        /* Always whole characters of text: no control, no bad byte. */
        cr_assert_eq(utf8_check(l, n), n);
        for (size_t k = 0; k < n; k++)
            cr_assert((uint8_t)l[k] >= 0x20 && l[k] != 0x7f);
        if (ev != LINE_NONE && (x & 0x100))
            line_edit_start(&ed, (x & 0x200) != 0);
    }
}

/* ---- UTF-8 ---- */

/* What a refused line echoes at Enter. */
#define REFUSED "\r\n" LINE_EDIT_INVALID_MSG

Test(line_edit, utf8_kept_exactly)
{
    /* "opé", "pässwörd": every byte kept, echoed as typed. */
    cr_assert_eq(type("op\xc3\xa9"), LINE_NONE);
    echo_is("op\xc3\xa9");
    cr_assert_eq(type("\r"), LINE_DONE);
    line_is("op\xc3\xa9");
    line_edit_start(&ed, true);
    clear_out();
    cr_assert_eq(type("p\xc3\xa4sswu\xcc\x88rd \xe2\x82\xac \xf0\x9f\x94\x91\r"), LINE_DONE);
    echo_is("\r\n");
    line_is("p\xc3\xa4sswu\xcc\x88rd \xe2\x82\xac \xf0\x9f\x94\x91");
    /* A password of nothing but accented letters is a password. */
    line_edit_start(&ed, true);
    cr_assert_eq(type("\xc3\xa9\xc3\xa9\xc3\xa9\r"), LINE_DONE);
    line_is("\xc3\xa9\xc3\xa9\xc3\xa9");
}

Test(line_edit, utf8_echo_waits_for_the_whole_character)
{
    cr_assert_eq(type("\xe2\x82"), LINE_NONE);
    echo_is("");
    line_is("");
    type("\xac");
    echo_is("\xe2\x82\xac");
    line_is("\xe2\x82\xac");
}

Test(line_edit, utf8_backspace_erases_a_character)
{
    type("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91");
    clear_out();
    type("\x7f");
    echo_is("\b \b");
    line_is("a\xc3\xa9\xe2\x82\xac");
    type("\x7f");
    line_is("a\xc3\xa9");
    type("\x08");
    line_is("a");
    clear_out();
    type("\x7f\x7f");
    echo_is("\b \b");
    line_is("");
}

Test(line_edit, utf8_ctrl_w_and_history_redraw_by_character)
{
    enter_line("caf\xc3\xa9 cr\xc3\xa8me");
    clear_out();
    type("caf\xc3\xa8");
    /* Up: the common prefix "caf" stays, the differing character is
     * erased once (one column) and retyped. */
    clear_out();
    type("\x1b[A");
    echo_is("\b \b\xc3\xa9 cr\xc3\xa8me");
    clear_out();
    type("\x17");
    /* "crème" is five characters on screen. */
    echo_is("\b \b\b \b\b \b\b \b\b \b");
    line_is("caf\xc3\xa9 ");
}

static void refused(const char *bytes, const char *why)
{
    line_edit_start(&ed, false);
    clear_out();
    cr_assert_eq(type(bytes), LINE_NONE, "%s", why);
    cr_assert_eq(type("\r"), LINE_CANCEL, "%s: Enter must refuse the line", why);
    line_is("");
    cr_assert(out.len >= strlen(REFUSED) &&
                  memcmp(obuf + out.len - strlen(REFUSED), REFUSED, strlen(REFUSED)) == 0,
              "%s: no refusal message in \"%.*s\"", why, (int)out.len, obuf);
}

Test(line_edit, utf8_invalid_sequences_refused)
{
    refused("op\xe9", "a Latin-1 e-acute (a lead byte cut short by Enter)");
    refused("p\xe4sswd", "a Latin-1 a-umlaut before ASCII");
    refused("a\x80", "a stray continuation byte");
    refused("\xbf", "a lone continuation byte");
    refused("\xff\xfe", "bytes that never occur in UTF-8");
    refused("\xf5\x80\x80\x80", "a lead byte past U+10FFFF");
    refused("\xf4\x90\x80\x80", "U+110000");
    refused("x\xc3", "a truncated 2-byte character at the end of the line");
    refused("x\xe2\x82", "a truncated 3-byte character at the end of the line");
    refused("x\xf0\x9f\x94", "a truncated 4-byte character at the end of the line");
    refused("\xc2\x85", "a C1 control (NEL)");
    refused("\xc2\x9b", "a C1 control (CSI)");
}

Test(line_edit, utf8_overlong_and_surrogates_refused)
{
    refused("\xc0\xaf", "an overlong '/' in two bytes");
    refused("\xc1\xbf", "an overlong 2-byte form");
    refused("\xe0\x80\xaf", "an overlong '/' in three bytes");
    refused("\xe0\x9f\xbf", "an overlong 3-byte form of U+07FF");
    refused("\xf0\x80\x80\xaf", "an overlong '/' in four bytes");
    refused("\xf0\x8f\xbf\xbf", "an overlong 4-byte form of U+FFFF");
    refused("\xed\xa0\x80", "the surrogate U+D800");
    refused("\xed\xbf\xbf", "the surrogate U+DFFF");
    refused("\xed\xa0\xbd\xed\xb2\xa9", "a surrogate pair (CESU-8)");
    /* The edges that are fine. */
    line_edit_start(&ed, false);
    cr_assert_eq(type("\xc2\xa0\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80"
                      "\xf4\x8f\xbf\xbf\r"),
                 LINE_DONE);
}

Test(line_edit, utf8_invalid_byte_bells_once_and_keeps_the_rest)
{
    cr_assert_eq(type("ab\xff"), LINE_NONE);
    echo_is("ab\a");
    clear_out();
    type("c\xfe\xc3(");
    /* 'c' and '(' typed; no second bell; the cut-short \xc3 refused. */
    echo_is("c(");
    line_is("abc(");
    /* Ctrl-U clears the line and the mark with it. */
    type("\x15ok\r");
    line_is("ok");
}

Test(line_edit, utf8_cut_short_by_a_control_key_still_runs_the_key)
{
    enter_line("prev");
    type("a\xe2\x82\x1b[A");
    /* The history recall replaced the line: nothing refused is left. */
    cr_assert_eq(type("\r"), LINE_DONE);
    line_is("prev");
    line_edit_start(&ed, false);
    clear_out();
    type("a\xc3\x03");
    cr_assert_eq(nevents, 1);
    cr_assert_eq(events[0], LINE_CANCEL);
    line_edit_start(&ed, false);
    clear_out();
    type("b\xc3\x7f");
    line_is(""); /* the Backspace erased 'b' */
    cr_assert_eq(type("\r"), LINE_CANCEL);
}

Test(line_edit, utf8_hidden_refusal_says_only_the_message)
{
    line_edit_start(&ed, true);
    clear_out();
    cr_assert_eq(type("p\xe4ss"), LINE_NONE);
    echo_is("");
    cr_assert_eq(type("\r"), LINE_CANCEL);
    echo_is(REFUSED);
    cr_assert_eq(memchr(ed.buf, 'p', sizeof(ed.buf)), NULL);
    cr_assert_eq(line_edit_history_count(&ed), 0);
}

Test(line_edit, utf8_character_never_split_at_the_limit)
{
    char big[LINE_EDIT_MAX];
    memset(big, 'x', sizeof(big));
    type_n(big, LINE_EDIT_MAX - 1);
    clear_out();
    type("\xc3\xa9"); /* two bytes, one place left */
    echo_is("\a");
    size_t n;
    line_edit_line(&ed, &n);
    cr_assert_eq(n, LINE_EDIT_MAX - 1);
    cr_assert_eq(type("\r"), LINE_TOO_LONG);
}

Test(line_edit, reader_limit_refuses_and_keeps_out_of_history)
{
    /* The reader takes 8 bytes: a 9-byte line ends as too long, wiped,
     * and never reaches the history; an 8-byte one is fine. */
    line_edit_set_limit(&ed, 8);
    cr_assert_eq(type("username"), LINE_NONE);
    cr_assert_eq(type("X\r"), LINE_TOO_LONG);
    line_is("");
    cr_assert_eq(line_edit_history_count(&ed), 0);
    line_edit_start(&ed, false);
    line_edit_set_limit(&ed, 8);
    cr_assert_eq(type("username\r"), LINE_DONE);
    cr_assert_eq(line_edit_history_count(&ed), 1);
    /* The limit lasts for one line: the next takes LINE_EDIT_MAX. */
    line_edit_start(&ed, false);
    cr_assert_eq(type("a much longer line than eight\r"), LINE_DONE);
    /* Counted in bytes: 4 characters of 2 bytes are 8, 5 are 10. */
    line_edit_start(&ed, false);
    line_edit_set_limit(&ed, 8);
    cr_assert_eq(type("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\r"), LINE_TOO_LONG);
    /* Larger than the buffer: clamped to LINE_EDIT_MAX. */
    line_edit_start(&ed, false);
    line_edit_set_limit(&ed, LINE_EDIT_MAX + 100);
    cr_assert_eq(ed.limit, LINE_EDIT_MAX);
}
