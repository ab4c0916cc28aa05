/*
 * The capos-shell line editor (see line_edit.h for the keys and the
 * redrawing scheme).
 *
 * The state is small and explicit: the line, three flags, an escape parser
 * state with a length bound, and the history ring with a browse position.
 * Every path that changes the line also produces the echo that makes the
 * terminal show the same thing, so the two cannot drift apart except when
 * the caller's output buffer is too small (then the echo is cut, never the
 * line's bounds).
 */
#include "text/line_edit.h"

#include "string.h"

enum esc_state {
    ESC_NONE = 0,
    ESC_START, /* after ESC */
    ESC_CSI,   /* after ESC [ */
    ESC_SS3,   /* after ESC O */
};

void line_out_init(struct line_out *out, char *buf, size_t cap)
{
    out->buf = buf;
    out->cap = buf ? cap : 0;
    out->len = 0;
    out->truncated = false;
}

static void emit(struct line_out *out, const char *s, size_t n)
{
    if (!out)
        return;
    for (size_t i = 0; i < n; i++) {
        if (out->len < out->cap)
            out->buf[out->len++] = s[i];
        else
            out->truncated = true;
    }
}

static void emit_str(struct line_out *out, const char *s)
{
    emit(out, s, strlen(s));
}

/* Erase the last n characters of the line on screen (the line itself is
 * shortened by the caller). */
static void erase(const struct line_edit *e, size_t n, struct line_out *out)
{
    if (e->hidden)
        return;
    for (size_t i = 0; i < n; i++)
        emit(out, "\b \b", 3);
}

static void begin_line(struct line_edit *e, bool hidden)
{
    /* Wipe the previous line: it may have been a password. */
    memset(e->buf, 0, sizeof(e->buf));
    e->len = 0;
    e->hidden = hidden;
    e->overflow = false;
    e->limit = LINE_EDIT_MAX;
    e->invalid = false;
    utf8_reset(&e->dec);
    memset(e->part, 0, sizeof(e->part));
    e->part_len = 0;
    e->finished = false;
    e->esc = ESC_NONE;
    e->esc_len = 0;
    e->browse = 0;
    e->draft_len = 0;
}

void line_edit_init(struct line_edit *e)
{
    memset(e, 0, sizeof(*e));
    begin_line(e, false);
}

void line_edit_start(struct line_edit *e, bool hidden)
{
    begin_line(e, hidden);
}

void line_edit_set_limit(struct line_edit *e, size_t limit)
{
    e->limit = limit < LINE_EDIT_MAX ? limit : LINE_EDIT_MAX;
}

const char *line_edit_line(const struct line_edit *e, size_t *len)
{
    if (len)
        *len = e->len;
    return e->buf;
}

/* ---- History ---- */

size_t line_edit_history_count(const struct line_edit *e)
{
    return e->hist_count;
}

const char *line_edit_history_get(const struct line_edit *e, size_t i, size_t *len)
{
    if (i >= e->hist_count)
        return NULL;
    const struct line_hist *h =
        &e->hist[(e->hist_head + e->hist_count - 1 - i) % LINE_EDIT_HISTORY];
    if (len)
        *len = h->len;
    return h->text;
}

void line_edit_history_add(struct line_edit *e, const char *line, size_t len)
{
    if (len == 0 || len > LINE_EDIT_MAX)
        return;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return;
    size_t newest_len;
    const char *newest = line_edit_history_get(e, 0, &newest_len);
    if (newest && newest_len == len && memcmp(newest, line, len) == 0)
        return;
    uint32_t slot;
    if (e->hist_count < LINE_EDIT_HISTORY) {
        slot = (e->hist_head + e->hist_count) % LINE_EDIT_HISTORY;
        e->hist_count++;
    } else {
        slot = e->hist_head;
        e->hist_head = (e->hist_head + 1) % LINE_EDIT_HISTORY;
    }
    memcpy(e->hist[slot].text, line, len);
    e->hist[slot].len = (uint16_t)len;
}

/* ---- Editing ---- */

/* Replace the line with text[0 .. n), n <= LINE_EDIT_MAX. On screen only
 * the part after the common prefix is erased and retyped, which keeps the
 * output small and the redraw free of escape sequences. */
static void set_line(struct line_edit *e, const char *text, size_t n, bool overflow,
                     struct line_out *out)
{
    size_t same = 0;
    while (same < n && same < e->len && e->buf[same] == text[same])
        same++;
    /* Keep whole characters only: a common prefix that ends inside one
     * (same lead byte, different continuation) redraws all of it. */
    while (same > 0 && ((same < e->len && ((uint8_t)e->buf[same] & 0xc0) == 0x80) ||
                        (same < n && ((uint8_t)text[same] & 0xc0) == 0x80)))
        same--;
    erase(e, utf8_count(e->buf + same, e->len - same), out);
    if (!e->hidden)
        emit(out, text + same, n - same);
    memmove(e->buf, text, n);
    memset(e->buf + n, 0, sizeof(e->buf) - n);
    e->len = n;
    e->overflow = overflow;
    e->invalid = false; /* what was refused is no longer part of the line */
}

/* A whole character, bytes c[0 .. n). */
static void insert(struct line_edit *e, const uint8_t *c, size_t n, struct line_out *out)
{
    if (e->len + n > LINE_EDIT_MAX) {
        if (!e->overflow && !e->hidden)
            emit(out, "\a", 1);
        e->overflow = true;
        return;
    }
    memcpy(e->buf + e->len, c, n);
    e->len += n;
    e->buf[e->len] = '\0';
    if (!e->hidden)
        emit(out, (const char *)c, n);
}

/* Something that is not UTF-8 text: refused, and remembered until Enter. */
static void refuse(struct line_edit *e, struct line_out *out)
{
    if (!e->invalid && !e->hidden)
        emit(out, "\a", 1);
    e->invalid = true;
    memset(e->part, 0, sizeof(e->part));
    e->part_len = 0;
}

/* Delete the bytes from `from` to the end, on screen too. */
static void delete_back(struct line_edit *e, size_t from, struct line_out *out)
{
    size_t n = e->len - from;
    erase(e, utf8_count(e->buf + from, n), out);
    e->len = from;
    memset(e->buf + e->len, 0, n);
}

/* Backspace: the last character, however many bytes it has. */
static void delete_char(struct line_edit *e, struct line_out *out)
{
    size_t i = e->len;
    if (i == 0)
        return;
    i--;
    while (i > 0 && ((uint8_t)e->buf[i] & 0xc0) == 0x80)
        i--;
    delete_back(e, i, out);
}

/* Ctrl-W: the spaces before the end, then the word before them. */
static void delete_word(struct line_edit *e, struct line_out *out)
{
    size_t i = e->len;
    while (i > 0 && e->buf[i - 1] == ' ')
        i--;
    while (i > 0 && e->buf[i - 1] != ' ')
        i--;
    delete_back(e, i, out);
}

static void history_up(struct line_edit *e, struct line_out *out)
{
    if (e->hidden)
        return;
    if (e->browse == e->hist_count) {
        emit(out, "\a", 1);
        return;
    }
    if (e->browse == 0) {
        /* Keep what was being typed; Down past the newest entry brings it
         * back, overflow marker included. */
        memcpy(e->draft, e->buf, e->len);
        e->draft_len = e->len;
        e->draft_overflow = e->overflow;
    }
    e->browse++;
    size_t n = 0;
    const char *h = line_edit_history_get(e, e->browse - 1, &n);
    set_line(e, h ? h : "", n, false, out);
}

static void history_down(struct line_edit *e, struct line_out *out)
{
    if (e->hidden)
        return;
    if (e->browse == 0) {
        emit(out, "\a", 1);
        return;
    }
    e->browse--;
    if (e->browse == 0) {
        set_line(e, e->draft, e->draft_len, e->draft_overflow, out);
        return;
    }
    size_t n = 0;
    const char *h = line_edit_history_get(e, e->browse - 1, &n);
    set_line(e, h ? h : "", n, false, out);
}

/* One byte while an escape sequence is open. Returns true if the byte was
 * consumed by it, false if it must be handled as an ordinary byte (the
 * sequence is then over). */
static bool escape(struct line_edit *e, uint8_t c, struct line_out *out)
{
    if (c == 0x1b) { /* a new sequence replaces the open one */
        e->esc = ESC_START;
        e->esc_len = 0;
        return true;
    }
    enum esc_state st = (enum esc_state)e->esc;
    e->esc = ESC_NONE;
    if (c < 0x20 || c == 0x7f)
        return false; /* a key pressed mid-sequence: Enter must work */
    if (c >= 0x80)
        return false; /* not part of a sequence: text (or not), checked as such */
    switch (st) {
    case ESC_START:
        if (c == '[')
            e->esc = ESC_CSI;
        else if (c == 'O')
            e->esc = ESC_SS3;
        /* else ESC x (Alt-x): consumed */
        e->esc_len = 0;
        return true;
    case ESC_CSI:
        if (c >= 0x40) { /* final byte */
            if (e->esc_len == 0 && c == 'A')
                history_up(e, out);
            else if (e->esc_len == 0 && c == 'B')
                history_down(e, out);
            return true;
        }
        /* Parameter or intermediate byte: bounded, so a hostile stream of
         * digits cannot keep the editor deaf forever. */
        if (e->esc_len >= LINE_EDIT_ESC_MAX)
            return false;
        e->esc_len++;
        e->esc = ESC_CSI;
        return true;
    case ESC_SS3:
        if (c == 'A')
            history_up(e, out);
        else if (c == 'B')
            history_down(e, out);
        return true;
    case ESC_NONE:
        break;
    }
    return false;
}

/* A character is complete in e->part: insert it, unless it is a C1
 * control (U+0080..U+009F), which a terminal may act on as it echoes. */
static void text_char(struct line_edit *e, struct line_out *out)
{
    if (e->dec.cp < 0xa0)
        refuse(e, out);
    else
        insert(e, e->part, e->part_len, out);
    memset(e->part, 0, sizeof(e->part));
    e->part_len = 0;
}

static enum line_event enter(struct line_edit *e, struct line_out *out)
{
    emit_str(out, "\r\n");
    e->finished = true;
    e->browse = 0;
    if (e->part_len)
        refuse(e, 0); /* a character cut short by Enter */
    bool too_long = e->overflow || e->len > e->limit;
    if (too_long || e->invalid) {
        memset(e->buf, 0, sizeof(e->buf));
        e->len = 0;
        if (too_long)
            return LINE_TOO_LONG;
        emit_str(out, LINE_EDIT_INVALID_MSG);
        return LINE_CANCEL;
    }
    if (!e->hidden)
        line_edit_history_add(e, e->buf, e->len);
    return LINE_DONE;
}

enum line_event line_edit_feed(struct line_edit *e, uint8_t c, struct line_out *out)
{
    bool after_cr = e->after_cr;
    e->after_cr = false;
    if (after_cr && c == '\n')
        return LINE_NONE;
    if (e->finished)
        begin_line(e, e->hidden);
    if (e->part_len) {
        /* Inside a character: only its continuation bytes belong to it. */
        switch (utf8_feed(&e->dec, c)) {
        case UTF8_MORE:
            e->part[e->part_len++] = c;
            return LINE_NONE;
        case UTF8_CHAR:
            e->part[e->part_len++] = c;
            text_char(e, out);
            return LINE_NONE;
        case UTF8_BAD:
        case UTF8_BAD_AGAIN:
            refuse(e, out); /* and c is a byte of its own, below */
            break;
        }
    }
    if (e->esc != ESC_NONE && escape(e, c, out))
        return LINE_NONE;

    if (c >= 0x20 && c < 0x7f) {
        insert(e, &c, 1, out);
        return LINE_NONE;
    }
    if (c >= 0x80) {
        utf8_reset(&e->dec);
        if (utf8_feed(&e->dec, c) == UTF8_MORE) {
            e->part[0] = c;
            e->part_len = 1;
        } else {
            refuse(e, out);
        }
        return LINE_NONE;
    }
    switch (c) {
    case '\r':
        e->after_cr = true;
        return enter(e, out);
    case '\n':
        return enter(e, out);
    case 0x08: /* Backspace */
    case 0x7f: /* DEL, what most terminals send for Backspace */
        delete_char(e, out);
        return LINE_NONE;
    case 0x17: /* Ctrl-W */
        delete_word(e, out);
        return LINE_NONE;
    case 0x15: /* Ctrl-U */
        set_line(e, "", 0, false, out);
        return LINE_NONE;
    case 0x03: /* Ctrl-C */
        emit_str(out, "^C\r\n");
        memset(e->buf, 0, sizeof(e->buf));
        e->len = 0;
        e->invalid = false;
        e->finished = true;
        return LINE_CANCEL;
    case 0x04: /* Ctrl-D */
        if (e->len > 0)
            return LINE_NONE;
        e->finished = true;
        return LINE_EOF;
    case 0x1b:
        e->esc = ESC_START;
        e->esc_len = 0;
        return LINE_NONE;
    default:
        return LINE_NONE; /* other controls */
    }
}

size_t line_edit_feed_buf(struct line_edit *e, const uint8_t *bytes, size_t n, struct line_out *out,
                          enum line_event *event)
{
    for (size_t i = 0; i < n; i++) {
        enum line_event ev = line_edit_feed(e, bytes[i], out);
        if (ev != LINE_NONE) {
            if (event)
                *event = ev;
            return i + 1;
        }
    }
    if (event)
        *event = LINE_NONE;
    return n;
}
