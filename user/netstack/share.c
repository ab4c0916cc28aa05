/*
 * Per-capability shares: every TCP scope of the manifest (a
 * TcpListenAuthority or TcpConnector export) gets an equal, fixed share of
 * the connection pool and of the endpoints, so that a client that takes
 * all it can exhausts its own share and never another's.
 *
 * A scope's connections are every pool slot that is in use on its behalf
 * (lib/net's tcp_slot_user): its listeners, their children not accepted
 * yet, its sockets, and the connections its clients released that are
 * still closing (FIN_WAIT, LAST_ACK, ...: a client cannot dodge its share
 * by releasing sockets whose peer stalls). A TIME_WAIT nobody holds is
 * not counted: lib/net reuses it for any new connection. With the shares
 * summing to at most the pool, a scope below its share always finds a
 * slot.
 *
 * Children arrive from the network, not through a call, so listeners'
 * backlogs are moved before every frame (ns_share_backlogs): the room
 * left in a scope is split among its listeners. A SYN flood on one port
 * fills only that scope's room.
 */
#include "netstack.h"

#include "text/fmt.h"

static int8_t conn_scope[NS_CONNS]; /* the scope of each slot we opened */
static uint32_t conn_share, obj_share;

void ns_share_init(void)
{
    uint32_t scopes = 0, fixed = 0;
    for (int i = 0; i < NS_MAX_OBJS; i++) {
        struct ns_obj *o = &ns.objs[i];
        fixed += o->kind != K_FREE;
        if (o->kind == K_LISTEN_AUTH || o->kind == K_CONNECTOR) {
            o->scope = (int8_t)i;
            scopes++;
        }
    }
    if (!scopes)
        return;
    conn_share = NS_CONNS / scopes;
    obj_share = (NS_MAX_OBJS - fixed) / scopes;
    capos_printf("netstack: each of %u TCP scopes may hold %u connections and %u sockets or "
                 "listeners\n",
                 scopes, conn_share, obj_share);
}

void ns_share_opened(int h, int8_t scope)
{
    if (h >= 0 && h < NS_CONNS)
        conn_scope[h] = scope;
}

/* The slot's scope, or -1 if the slot is reusable. */
static int slot_scope(int h)
{
    int u = tcp_slot_user(&ns.st, h);
    return u < 0 ? -1 : conn_scope[u];
}

static uint32_t conns_used(int scope)
{
    uint32_t n = 0;
    for (int h = 0; h < NS_CONNS; h++)
        n += slot_scope(h) == scope;
    return n;
}

static uint32_t objs_used(int scope)
{
    uint32_t n = 0;
    for (int i = 0; i < NS_MAX_OBJS; i++) {
        const struct ns_obj *o = &ns.objs[i];
        n += (o->kind == K_LISTENER || o->kind == K_SOCKET) && o->scope == scope;
    }
    return n;
}

bool ns_share_room(int scope, bool conn, char *why, size_t n)
{
    uint32_t c = conns_used(scope), o = objs_used(scope);
    if (conn && c >= conn_share) {
        fmt_snprintf(why, n, "this capability's share of %u connections is in use", conn_share);
        return false;
    }
    if (o >= obj_share) {
        fmt_snprintf(why, n, "this capability's share of %u sockets and listeners is in use",
                     obj_share);
        return false;
    }
    return true;
}

void ns_share_backlogs(void)
{
    for (int s = 0; s < NS_MAX_OBJS; s++) {
        if (ns.objs[s].kind != K_LISTEN_AUTH)
            continue;
        uint32_t used = conns_used(s), nl = 0;
        uint32_t room = used < conn_share ? conn_share - used : 0;
        for (int i = 0; i < NS_MAX_OBJS; i++)
            nl += ns.objs[i].kind == K_LISTENER && ns.objs[i].scope == s;
        uint32_t k = 0;
        for (int i = 0; i < NS_MAX_OBJS && nl; i++) {
            const struct ns_obj *l = &ns.objs[i];
            if (l->kind != K_LISTENER || l->scope != s)
                continue;
            uint32_t children = 0;
            for (int h = 0; h < NS_CONNS; h++)
                children += h != l->h && tcp_slot_user(&ns.st, h) == l->h;
            uint32_t more = room / nl + (k++ < room % nl);
            uint32_t backlog = children + more;
            tcp_set_backlog(&ns.st, l->h, backlog < NS_BACKLOG ? backlog : NS_BACKLOG);
        }
    }
}
