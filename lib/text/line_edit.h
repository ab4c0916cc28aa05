/*
 * The capos-shell line editor: a state machine fed the raw bytes a terminal
 * sends, one at a time, that produces the echo to send back and an event
 * when a line ends.
 *
 * Pure, freestanding code: no allocation (struct line_edit holds the line,
 * a draft and the history, about 19 KiB, so make it static), no libc
 * beyond mem*. Input is hostile: any byte sequence of any length leaves the
 * editor in a valid state, and the line never grows past LINE_EDIT_MAX.
 *
 * Text is UTF-8 (text/utf8.h), kept exactly as typed: a character is
 * inserted, echoed and erased whole, never split, and counts as one column
 * on screen (true of letters and most symbols; a double-width character or
 * a combining mark would put the redraw a column off: there is no width
 * table here). Anything that is not strict UTF-8, or is a C1 control
 * (U+0080..U+009F, which some terminals act on), is refused: it is not
 * inserted, a single BEL is echoed (not in hidden mode) and the line is
 * marked invalid until it is cleared (Ctrl-U or a history recall); a
 * character still incomplete at Enter counts too. Enter on an invalid line
 * echoes "\r\n" and LINE_EDIT_INVALID_MSG and ends it like Ctrl-C
 * (LINE_CANCEL, the line wiped), so a name or password is never taken
 * with a byte silently missing. Other controls below 0x20 are ignored.
 *
 * Keys:
 *
 *   text            insert at the end (there is no cursor movement)
 *   CR, LF          end the line (LINE_DONE; echo "\r\n"); a LF right after
 *                   a CR is ignored, even across line_edit_start, so CR LF
 *                   is one Enter
 *   BS, DEL         delete the last character (echo "\b \b")
 *   Ctrl-W          delete the last word and the spaces after it
 *   Ctrl-U          delete the whole line
 *   Ctrl-C          cancel the line (LINE_CANCEL; echo "^C\r\n")
 *   Ctrl-D          on an empty line: LINE_EOF (no echo); otherwise ignored
 *   Up, Down        ESC [ A / ESC [ B / ESC O A / ESC O B: walk the history
 *                   (BEL at either end); the line being typed is kept as a
 *                   draft and comes back below the newest entry
 *   ESC ...         other CSI (ESC [ params final) and SS3 (ESC O x)
 *                   sequences are consumed and ignored; a sequence longer
 *                   than LINE_EDIT_ESC_MAX bytes is abandoned and the rest
 *                   read as ordinary input; a control byte inside one ends
 *                   it and is then handled normally (so Enter always works)
 *
 * Redrawing: every erase is "\b \b" per character, and replacing the line
 * (Ctrl-U, history) erases only the part that differs and types the rest. That needs
 * nothing but backspace from the terminal (a plain serial terminal, no ANSI
 * escapes, no knowledge of the prompt) and works as long as the prompt and
 * line fit on one terminal row: "\b" does not move back across a wrapped
 * row on most terminals, which neither this nor "\r\x1b[K" can fix without
 * knowing the terminal width.
 *
 * Hidden mode (passwords): nothing is echoed for typed bytes, erases,
 * history keys, overflow or invalid bytes; only Enter ("\r\n", plus
 * LINE_EDIT_INVALID_MSG on an invalid line, which says nothing about what
 * was typed) and Ctrl-C ("^C\r\n") echo, so the terminal moves to a new
 * line. A hidden line never enters the history and the history cannot be
 * recalled into it.
 *
 * Overflow: once the line holds LINE_EDIT_MAX bytes, further characters
 * (and a character that would not fit whole) are dropped, a single BEL is
 * echoed (not in hidden mode) and the line is marked overflowed until it
 * is cleared (Ctrl-U or a history recall); Enter then gives LINE_TOO_LONG
 * instead of LINE_DONE, so a line with a hole in it is never acted on.
 */
#ifndef CAPOS_LIB_LINE_EDIT_H
#define CAPOS_LIB_LINE_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text/utf8.h"

#define LINE_EDIT_MAX     1024u /* bytes in a line */
#define LINE_EDIT_HISTORY 16u   /* lines remembered */
#define LINE_EDIT_ESC_MAX 16u   /* bytes of an escape sequence after ESC */

/* The most output one byte can produce: replacing a full line by another
 * ("\b \b" per byte, then the new bytes). An output buffer this big is
 * never truncated if it is drained after each byte. */
#define LINE_EDIT_OUT_MAX (4u * LINE_EDIT_MAX)

/* Echoed after Enter on a line that held bytes that are not UTF-8 text. */
#define LINE_EDIT_INVALID_MSG                                                                      \
    "the line was discarded: it held bytes that are not UTF-8 text (set the terminal to "          \
    "UTF-8)\r\n"

enum line_event {
    LINE_NONE = 0, /* keep feeding */
    LINE_DONE,     /* Enter: line_edit_line() holds the line */
    LINE_CANCEL,   /* Ctrl-C, or Enter on an invalid line: the line was discarded */
    LINE_EOF,      /* Ctrl-D on an empty line */
    LINE_TOO_LONG, /* Enter on an overflowed line: the line was discarded */
};

/* A caller-provided output buffer. Bytes past cap are dropped (and
 * truncated set), never written. The caller sends buf[0 .. len) to the
 * terminal and resets len to 0 when convenient. */
struct line_out {
    char *buf;
    size_t cap, len;
    bool truncated;
};

void line_out_init(struct line_out *out, char *buf, size_t cap);

struct line_hist {
    uint16_t len;
    char text[LINE_EDIT_MAX];
};

struct line_edit {
    char buf[LINE_EDIT_MAX + 1]; /* the line, NUL-terminated after LINE_DONE */
    size_t len;
    bool hidden;
    bool overflow;       /* bytes were dropped; Enter gives LINE_TOO_LONG */
    size_t limit;        /* a longer line gives LINE_TOO_LONG at Enter */
    bool invalid;        /* bytes that are not UTF-8 text were refused */
    struct utf8_dec dec; /* the character being typed */
    uint8_t part[4];     /* its bytes so far */
    uint8_t part_len;
    bool finished; /* an event ended the line; the next byte starts a new one */
    bool after_cr; /* the last byte was a CR: ignore one LF */
    uint8_t esc;   /* escape parser state (line_edit.c) */
    uint8_t esc_len;
    /* History: a ring, hist[(head + i) % N] for i < count, oldest first. */
    struct line_hist hist[LINE_EDIT_HISTORY];
    uint32_t hist_head, hist_count;
    uint32_t browse;           /* 0: editing the draft; k: showing the k-th newest */
    char draft[LINE_EDIT_MAX]; /* the line being typed, while browsing */
    size_t draft_len;
    bool draft_overflow;
};

/* Empty history, empty visible line. */
void line_edit_init(struct line_edit *e);

/* Start a new line (after printing the prompt). The history is kept; a
 * pending CR (for CR LF) is kept too. */
void line_edit_start(struct line_edit *e, bool hidden);

/* The longest line the reader of this one takes (at most LINE_EDIT_MAX;
 * line_edit_start resets it to LINE_EDIT_MAX). A longer line ends as
 * LINE_TOO_LONG at Enter, wiped and kept out of the history, exactly as
 * one that overflowed the buffer. */
void line_edit_set_limit(struct line_edit *e, size_t limit);

/*
 * Feed one byte from the terminal; echo goes to out (may be NULL to discard
 * it). A byte fed after an event, without line_edit_start, starts a new
 * line in the same mode (so hidden stays hidden).
 */
enum line_event line_edit_feed(struct line_edit *e, uint8_t byte, struct line_out *out);

/* Feed bytes until one of them produces an event or the buffer ends.
 * Returns how many bytes were consumed and stores the event (LINE_NONE if
 * all were consumed without one); feed the rest after handling the event. */
size_t line_edit_feed_buf(struct line_edit *e, const uint8_t *bytes, size_t n, struct line_out *out,
                          enum line_event *event);

/* The line after LINE_DONE (NUL-terminated; valid until the next feed or
 * start), or what has been typed so far otherwise. */
const char *line_edit_line(const struct line_edit *e, size_t *len);

/* Add a line to the history (done automatically on LINE_DONE for visible
 * lines). Empty and all-space lines, lines longer than LINE_EDIT_MAX and a
 * repeat of the newest entry are not added. The oldest entry is dropped
 * when the history is full. */
void line_edit_history_add(struct line_edit *e, const char *line, size_t len);

/* Entries in the history, and entry i (0 = newest) or NULL. */
size_t line_edit_history_count(const struct line_edit *e);
const char *line_edit_history_get(const struct line_edit *e, size_t i, size_t *len);

#endif
