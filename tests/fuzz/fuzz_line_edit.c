/*
 * libFuzzer target for the capos-shell line editor. The input is a stream
 * of terminal bytes; its first byte picks the output buffer size and how
 * the "shell" reacts to events (start hidden or visible lines, or feed on
 * without line_edit_start).
 *
 * Checked after every byte:
 *  - the line holds at most LINE_EDIT_MAX bytes of strict UTF-8 text (no
 *    C0 or C1 control, no DEL, nothing overlong, no surrogate) and is
 *    NUL-terminated; the history holds at most LINE_EDIT_HISTORY entries,
 *    none empty, no two neighbours equal;
 *  - the output never goes past its buffer (guard bytes stay intact) and,
 *    with a LINE_EDIT_OUT_MAX buffer drained after each byte, is never
 *    truncated;
 *  - a model of a dumb UTF-8 terminal (one column per character, \b, \r,
 *    \n, BEL) fed the echo shows exactly the line, with the cursor at its
 *    end: the redraw logic never lets screen and buffer drift apart, and
 *    never echoes part of a character;
 *  - in hidden mode the only echo is "\r\n", "^C\r\n" or "\r\n" and the
 *    refusal message, and no hidden line enters the history.
 * Finally a second editor fed the same stream through line_edit_feed_buf
 * must end with the same line, history and output.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/line_edit.h"
#include "text/utf8.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define GUARD 64

static struct line_edit ed, ed2;
static char obuf[LINE_EDIT_OUT_MAX + GUARD];

/* The terminal: one row (a new row on \n) of characters, a cursor. */
static uint32_t row[2 * LINE_EDIT_MAX + 8];
static size_t col, row_used;
static struct utf8_dec term_dec;

static void screen_reset(void)
{
    for (size_t i = 0; i < sizeof(row) / sizeof(row[0]); i++)
        row[i] = ' ';
    col = row_used = 0;
    utf8_reset(&term_dec);
}

static void screen_put(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((uint8_t)c >= 0x80 || term_dec.need) {
            /* The echo is whole UTF-8 characters, nothing else. */
            enum utf8_res r = utf8_feed(&term_dec, (uint8_t)c);
            CHECK(r == UTF8_MORE || r == UTF8_CHAR);
            if (r == UTF8_CHAR) {
                CHECK(term_dec.cp >= 0xa0);
                CHECK(col < sizeof(row) / sizeof(row[0]));
                row[col++] = term_dec.cp;
                if (col > row_used)
                    row_used = col;
            }
        } else if (c == '\r') {
            col = 0;
        } else if (c == '\n') {
            screen_reset();
        } else if (c == '\b') {
            if (col > 0)
                col--;
        } else if (c == '\a') {
            /* bell */
        } else {
            CHECK(c >= 0x20 && c < 0x7f);
            CHECK(col < sizeof(row) / sizeof(row[0]));
            row[col++] = (uint8_t)c;
            if (col > row_used)
                row_used = col;
        }
    }
}

/* Text as the editor may hold it: strict UTF-8, no controls. */
static void check_text(const char *l, size_t n)
{
    CHECK(utf8_check(l, n) == n);
    struct utf8_dec d;
    utf8_reset(&d);
    for (size_t i = 0; i < n; i++) {
        if (utf8_feed(&d, (uint8_t)l[i]) == UTF8_CHAR)
            CHECK((d.cp >= 0x20 && d.cp < 0x7f) || d.cp >= 0xa0);
    }
}

/* Whether the screen row shows exactly l[0 .. n), one character a column. */
static bool row_shows(const char *l, size_t n, size_t *cols)
{
    struct utf8_dec d;
    utf8_reset(&d);
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        if (utf8_feed(&d, (uint8_t)l[i]) != UTF8_CHAR)
            continue;
        if (row[c++] != d.cp)
            return false;
    }
    *cols = c;
    return true;
}

static void check_line(const struct line_edit *e)
{
    size_t n;
    const char *l = line_edit_line(e, &n);
    CHECK(n <= LINE_EDIT_MAX && l[n] == '\0');
    check_text(l, n);
}

/* The history changes only on events (and is checked only then: scanning
 * 16 KiB per byte would slow the fuzzer tenfold). */
static void check_history(const struct line_edit *e)
{
    size_t hc = line_edit_history_count(e);
    CHECK(hc <= LINE_EDIT_HISTORY);
    size_t prev_len = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < hc; i++) {
        size_t hl;
        const char *h = line_edit_history_get(e, i, &hl);
        CHECK(h && hl >= 1 && hl <= LINE_EDIT_MAX);
        check_text(h, hl);
        CHECK(!prev || prev_len != hl || memcmp(prev, h, hl) != 0);
        prev = h;
        prev_len = hl;
    }
    CHECK(line_edit_history_get(e, hc, NULL) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    /* Bit 0: full-size output buffer (the screen model applies); else a
     * small one that truncates. Bits 1-2: start hidden on some events.
     * Bit 3: sometimes feed on without line_edit_start. */
    bool full = mode & 1;
    size_t cap = full ? LINE_EDIT_OUT_MAX : (size_t)(mode >> 4) * 5;
    bool hidden = (mode & 0x20) != 0;
    struct line_out out;

    line_edit_init(&ed);
    if (hidden)
        line_edit_start(&ed, true);
    screen_reset();
    size_t nev = 0;
    for (size_t i = 0; i < size; i++) {
        memset(obuf + cap, 'G', GUARD);
        line_out_init(&out, obuf, cap);
        bool was_hidden = ed.hidden;
        size_t hist_before = line_edit_history_count(&ed);
        size_t newest_len = 0;
        const char *newest = line_edit_history_get(&ed, 0, &newest_len);
        static char newest_copy[LINE_EDIT_MAX];
        if (was_hidden && newest)
            memcpy(newest_copy, newest, newest_len);

        enum line_event ev = line_edit_feed(&ed, data[i], &out);
        CHECK(ev >= LINE_NONE && ev <= LINE_TOO_LONG);
        CHECK(out.len <= cap);
        for (size_t k = cap; k < cap + GUARD; k++)
            CHECK(obuf[k] == 'G');
        if (full)
            CHECK(!out.truncated);
        /* Whole-line checks cost O(line) per byte, quadratic over a long
         * input: do them on events and every 32nd byte (a drift between
         * screen and line does not heal by itself, so it is still seen),
         * the O(1) ones always. */
        bool deep = ev != LINE_NONE || (i & 31) == 0 || i + 1 == size;
        if (deep)
            check_line(&ed);
        if (ev != LINE_NONE)
            check_history(&ed);

        if (was_hidden) {
            static const char refused[] = "\r\n" LINE_EDIT_INVALID_MSG;
            CHECK(out.len == 0 || (out.len == 2 && memcmp(obuf, "\r\n", 2) == 0) ||
                  (out.len == 4 && memcmp(obuf, "^C\r\n", 4) == 0) ||
                  (ev == LINE_CANCEL && out.len == sizeof(refused) - 1 &&
                   memcmp(obuf, refused, out.len) == 0) ||
                  out.truncated);
            CHECK(line_edit_history_count(&ed) == hist_before);
            if (newest) {
                size_t nl;
                const char *h = line_edit_history_get(&ed, 0, &nl);
                CHECK(nl == newest_len && memcmp(h, newest_copy, nl) == 0);
            }
        } else if (full) {
            screen_put(obuf, out.len);
            size_t n;
            const char *l = line_edit_line(&ed, &n);
            if (ev == LINE_NONE && !ed.finished) {
                /* (finished: the LF of a CR LF after an event that was
                 * not followed by line_edit_start; the line still holds
                 * the completed line, the screen is on a fresh row.) */
                CHECK(n <= LINE_EDIT_MAX && l[n] == '\0');
                CHECK(term_dec.need == 0); /* no half character echoed */
                if (deep) {
                    size_t cols = 0;
                    CHECK(row_shows(l, n, &cols));
                    CHECK(col == cols);
                    for (size_t k = cols; k < row_used; k++)
                        CHECK(row[k] == ' ');
                } else {
                    CHECK(col <= n && (n == 0) == (col == 0));
                }
            } else if (ev != LINE_EOF) {
                /* On a fresh row (after the refusal message, if any). */
                CHECK(col == 0 && row_used == 0);
            }
        }
        if (ev == LINE_DONE && !was_hidden) {
            size_t n, hl;
            const char *l = line_edit_line(&ed, &n);
            const char *h = line_edit_history_get(&ed, 0, &hl);
            bool blank = strspn(l, " ") == n;
            CHECK(blank || (h && hl == n && memcmp(h, l, n) == 0));
        }
        if (ev != LINE_NONE) {
            nev++;
            /* The shell's reaction: usually start a new line (some hidden),
             * or, with bit 3, leave every other event alone. */
            if (!((mode & 8) && (nev & 1))) {
                bool h = ((mode >> 1) & 3) != 0 && (nev % 4) < ((mode >> 1) & 3);
                line_edit_start(&ed, h);
                screen_reset();
            }
        }
    }

    /* The same stream through line_edit_feed_buf, reacting the same way. */
    static char out2buf[1 << 16];
    struct line_out out2;
    line_edit_init(&ed2);
    if (hidden)
        line_edit_start(&ed2, true);
    size_t at = 0, nev2 = 0;
    while (at < size) {
        line_out_init(&out2, out2buf, sizeof(out2buf));
        enum line_event ev;
        size_t used = line_edit_feed_buf(&ed2, data + at, size - at, &out2, &ev);
        CHECK(used >= 1 && used <= size - at);
        CHECK(ev != LINE_NONE || at + used == size);
        at += used;
        if (ev != LINE_NONE) {
            nev2++;
            if (!((mode & 8) && (nev2 & 1))) {
                bool h = ((mode >> 1) & 3) != 0 && (nev2 % 4) < ((mode >> 1) & 3);
                line_edit_start(&ed2, h);
            }
        }
    }
    CHECK(nev2 == nev);
    size_t n1, n2;
    const char *l1 = line_edit_line(&ed, &n1), *l2 = line_edit_line(&ed2, &n2);
    CHECK(n1 == n2 && memcmp(l1, l2, n1) == 0);
    CHECK(ed.hidden == ed2.hidden && ed.overflow == ed2.overflow);
    CHECK(line_edit_history_count(&ed) == line_edit_history_count(&ed2));
    for (size_t i = 0; i < line_edit_history_count(&ed); i++) {
        const char *h1 = line_edit_history_get(&ed, i, &n1);
        const char *h2 = line_edit_history_get(&ed2, i, &n2);
        CHECK(n1 == n2 && memcmp(h1, h2, n1) == 0);
    }
    return 0;
}
