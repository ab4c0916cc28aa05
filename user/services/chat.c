/*
 * chat: the resident demo service, a shared message board
 * (docs/sessions.md). Keeps the newest 64 messages; post numbers them from
 * 1, recent returns up to 16 of the newest, oldest first, as "from: text".
 * Operators reach it through the bundle the authority broker gives their
 * shell, and pass it on to the programs they start (chat-client).
 *
 * Caps: "console" (optional).
 * Export: "chat" (Chat).
 */
#include "svc.h"

#define KEEP       64
#define FROM_MAX   31
#define TEXT_MAX   200
#define RECENT_MAX 16

struct message {
    uint32_t seq;
    uint8_t from_len;
    uint8_t text_len;
    char from[FROM_MAX + 1];
    char text[TEXT_MAX + 1];
};

static struct message board[KEEP];
static uint32_t next_seq = 1;

/* Printable text without control characters (UTF-8 passes). */
static bool printable(struct capn_text t)
{
    for (uint32_t i = 0; i < t.len; i++) {
        uint8_t c = (uint8_t)t.str[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static int post(void *self, Chat_post_Params_r params, Chat_post_Results_b results, void *ctx)
{
    (void)self;
    struct capn_text from = Chat_post_Params_get_from(params);
    struct capn_text text = Chat_post_Params_get_text(params);
    if (!svc_params_ok(ctx, params.s))
        return CAPNPC_OK;
    if (from.len == 0 || from.len > FROM_MAX || !printable(from))
        return svc_fail(ctx, CapException_Type_invalidArgument,
                        "post: from is %u bytes; expected 1..%d printable bytes", from.len,
                        FROM_MAX);
    if (text.len == 0 || text.len > TEXT_MAX || !printable(text))
        return svc_fail(ctx, CapException_Type_invalidArgument,
                        "post: text is %u bytes; expected 1..%d printable bytes "
                        "(no control characters)",
                        text.len, TEXT_MAX);
    if (next_seq == UINT32_MAX)
        return svc_fail(ctx, CapException_Type_overloaded, "post: the board is out of numbers");
    struct message *m = &board[(next_seq - 1) % KEEP];
    m->seq = next_seq++;
    m->from_len = (uint8_t)from.len;
    memcpy(m->from, from.str, from.len);
    m->from[from.len] = 0;
    m->text_len = (uint8_t)text.len;
    memcpy(m->text, text.str, text.len);
    m->text[text.len] = 0;
    Chat_post_Results_set_seq(results, m->seq);
    return CAPNPC_OK;
}

static int recent(void *self, Chat_recent_Params_r params, Chat_recent_Results_b results, void *ctx)
{
    (void)self;
    uint32_t max = Chat_recent_Params_get_max(params);
    if (!svc_params_ok(ctx, params.s))
        return CAPNPC_OK;
    if (max > RECENT_MAX)
        return svc_fail(ctx, CapException_Type_invalidArgument,
                        "recent: max is %u; expected at most %d", max, RECENT_MAX);
    uint32_t have = next_seq - 1 < KEEP ? next_seq - 1 : KEEP;
    uint32_t n = have < max ? have : max;
    List_Text_b lines = Chat_recent_Results_init_lines(results, n);
    for (uint32_t i = 0; i < n; i++) {
        const struct message *m = &board[(next_seq - 1 - n + i) % KEEP];
        char *out = List_Text_init(lines, i, (uint32_t)m->from_len + 2 + m->text_len);
        if (!out)
            return svc_fail(ctx, CapException_Type_failed, "recent: the lines did not fit");
        memcpy(out, m->from, m->from_len);
        memcpy(out + m->from_len, ": ", 2);
        memcpy(out + m->from_len + 2, m->text, m->text_len);
    }
    return CAPNPC_OK;
}

static const struct Chat_ops ops = {.post = post, .recent = recent};

int main(void)
{
    svc_name = "chat";
    struct capos_server srv = {
        .endpoint = svc_need("chat", Chat_INTERFACE_ID),
        .iface = &Chat_IFACE,
        .ops = &ops,
    };
    int rc = svc_serve(&srv);
    return rc < 0 ? 1 : 0;
}
