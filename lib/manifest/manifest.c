/*
 * SystemManifest validation (manifest.h, docs/manifest.md).
 *
 * Every read goes through the bounded Cap'n Proto reader, whose first error
 * is sticky: after each step mf_msg_ok() turns a recorded reader error into a
 * MANIFEST_E_MESSAGE at the path being read. Nothing recurses; loops are
 * bounded by the MANIFEST_MAX_* limits, which are checked before any list
 * is walked.
 */
#include "manifest/manifest.h"
#include "manifest/manifest_impl.h"

/* ---- Message text ---- */

static void put_n(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n && b->len + 1 < b->cap; i++)
        b->p[b->len++] = s[i];
    b->p[b->len] = 0;
}

void mf_put(struct sbuf *b, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    put_n(b, s, n);
}

void mf_put_u(struct sbuf *b, uint64_t v)
{
    char t[20];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put_n(b, &t[--n], 1);
}

static void put_hex(struct sbuf *b, uint64_t v)
{
    char t[18] = "0x";
    for (int i = 0; i < 16; i++)
        t[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    put_n(b, t, 18);
}

/* Text from the message, which is untrusted: bytes that are not printable
 * ASCII appear as \xNN, and long text is cut. */
void mf_put_esc(struct sbuf *b, struct capn_text t)
{
    for (uint32_t i = 0; i < t.len && i < 40; i++) {
        unsigned char c = (unsigned char)t.str[i];
        char esc[4] = {'\\', 'x', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]};
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            put_n(b, (const char *)&t.str[i], 1);
        else
            put_n(b, esc, 4);
    }
    if (t.len > 40)
        mf_put(b, "...");
}

void mf_put_q(struct sbuf *b, struct capn_text t)
{
    mf_put(b, "\"");
    mf_put_esc(b, t);
    mf_put(b, "\"");
}

/* "Console (0xa3b9...)", or just the id when the schema does not know it. */
void mf_put_iface(struct sbuf *b, uint64_t id)
{
    const struct capnpc_iface *f = capnpc_find_iface(capos_INTERFACES, capos_INTERFACE_COUNT, id);
    if (f != NULL) {
        mf_put(b, f->name);
        mf_put(b, " (");
        put_hex(b, id);
        mf_put(b, ")");
    } else {
        mf_put(b, "interface ");
        put_hex(b, id);
    }
}

/* ---- Kernel sources ---- */

/* Which interface each kernel source provides is the schema's fact
 * ($C.implements on enum KernelSource); the kernel's object registry is
 * checked against the same table at boot. */
uint64_t manifest_kernel_iface(uint16_t src)
{
    return src < KernelSource_COUNT && KernelSource_IFACES[src] ? KernelSource_IFACES[src]->id : 0;
}

static void put_sources(struct sbuf *b)
{
    for (int i = 0; i < KernelSource_COUNT; i++) {
        mf_put(b, i == 0 ? "" : i == KernelSource_COUNT - 1 ? " or " : ", ");
        mf_put(b, KernelSource_NAMES[i]);
    }
}

/* ---- Checker state and error reporting ---- */

/* Record an error at base[i].field[k].sub (parts < 0 or NULL are left out)
 * and return the buffer for its explanation. */
struct sbuf *mf_fail(struct ck *c, enum manifest_err code, const char *base, int i,
                     const char *field, int k, const char *sub)
{
    struct manifest_error *e = c->e;
    struct sbuf p = {e->path, sizeof(e->path), 0};
    e->code = code;
    e->path[0] = 0;
    if (base != NULL)
        mf_put(&p, base);
    if (i >= 0) {
        mf_put(&p, "[");
        mf_put_u(&p, (uint64_t)i);
        mf_put(&p, "]");
    }
    if (field != NULL) {
        mf_put(&p, p.len ? "." : "");
        mf_put(&p, field);
    }
    if (k >= 0) {
        mf_put(&p, "[");
        mf_put_u(&p, (uint64_t)k);
        mf_put(&p, "]");
    }
    if (sub != NULL) {
        mf_put(&p, ".");
        mf_put(&p, sub);
    }
    c->msg.p = e->msg;
    c->msg.cap = sizeof(e->msg);
    c->msg.len = 0;
    e->msg[0] = 0;
    return &c->msg;
}

/* Any reader error so far becomes MANIFEST_E_MESSAGE at this path. */
bool mf_msg_ok(struct ck *c, const char *base, int i, const char *field, int k, const char *sub)
{
    if (c->m->msg.err == CAPN_OK)
        return true;
    struct sbuf *b = mf_fail(c, MANIFEST_E_MESSAGE, base, i, field, k, sub);
    mf_put(b, "malformed message: ");
    mf_put(b, capn_err_str(c->m->msg.err));
    return false;
}

static bool is_name(struct capn_text t)
{
    for (uint32_t i = 0; i < t.len; i++) {
        char ch = t.str[i];
        bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        bool digit = ch >= '0' && ch <= '9';
        if (!alpha && (i == 0 || (!digit && ch != '-' && ch != '_')))
            return false;
    }
    return true;
}

bool mf_check_name(struct ck *c, struct capn_text t, const char *base, int i, const char *field,
                   int k, const char *sub)
{
    struct sbuf *b;
    if (!mf_msg_ok(c, base, i, field, k, sub))
        return false;
    if (t.len == 0) {
        mf_put(mf_fail(c, MANIFEST_E_MISSING, base, i, field, k, sub), "missing: expected a name");
        return false;
    }
    if (t.len > MANIFEST_NAME_MAX) {
        b = mf_fail(c, MANIFEST_E_NAME, base, i, field, k, sub);
        mf_put_q(b, t);
        mf_put(b, " is ");
        mf_put_u(b, t.len);
        mf_put(b, " bytes long; a name has at most 32");
        return false;
    }
    if (!is_name(t)) {
        b = mf_fail(c, MANIFEST_E_NAME, base, i, field, k, sub);
        mf_put_q(b, t);
        mf_put(b, " is not a name: expected a letter, then letters, digits, '-' or '_'");
        return false;
    }
    return true;
}

/* A list of at most max elements; n receives its length. */
bool mf_check_len(struct ck *c, uint32_t len, uint32_t max, const char *what, const char *base,
                  int i, const char *field)
{
    if (len <= max)
        return true;
    struct sbuf *b = mf_fail(c, MANIFEST_E_TOO_MANY, base, i, field, -1, NULL);
    mf_put_u(b, len);
    mf_put(b, " ");
    mf_put(b, what);
    mf_put(b, "; at most ");
    mf_put_u(b, max);
    return false;
}

/* ---- Binaries ---- */

static int find_binary(struct ck *c, struct capn_text name)
{
    for (uint32_t j = 0; j < c->nbins; j++)
        if (capn_text_eq(Binary_get_name(List_Binary_get(c->bins, j)), name))
            return (int)j;
    return -1;
}

bool mf_check_binary_ref(struct ck *c, struct capn_text name, const char *base, int i)
{
    if (!mf_check_name(c, name, base, i, "binary", -1, NULL))
        return false;
    if (find_binary(c, name) >= 0)
        return mf_msg_ok(c, base, i, "binary", -1, NULL);
    if (!mf_msg_ok(c, base, i, "binary", -1, NULL))
        return false;
    struct sbuf *b = mf_fail(c, MANIFEST_E_BINARY, base, i, "binary", -1, NULL);
    mf_put(b, "no binary named ");
    mf_put_q(b, name);
    mf_put(b, ": expected one of the names in binaries");
    return false;
}

static bool check_binaries(struct ck *c)
{
    SystemManifest_r r = c->m->root;
    struct sbuf *b;
    if (!SystemManifest_has_binaries(r)) {
        mf_put(mf_fail(c, MANIFEST_E_MISSING, "binaries", -1, NULL, -1, NULL),
               "missing: expected the programs of the system, at least init's");
        return false;
    }
    c->bins = SystemManifest_get_binaries(r);
    c->nbins = List_Binary_len(c->bins);
    if (!mf_msg_ok(c, "binaries", -1, NULL, -1, NULL) ||
        !mf_check_len(c, c->nbins, MANIFEST_MAX_BINARIES, "binaries", "binaries", -1, NULL))
        return false;
    if (c->nbins == 0) {
        mf_put(mf_fail(c, MANIFEST_E_MISSING, "binaries", -1, NULL, -1, NULL),
               "empty: expected at least init's binary");
        return false;
    }
    for (uint32_t i = 0; i < c->nbins; i++) {
        Binary_r bin = List_Binary_get(c->bins, i);
        struct capn_text name = Binary_get_name(bin);
        if (!mf_check_name(c, name, "binaries", (int)i, "name", -1, NULL))
            return false;
        for (uint32_t j = 0; j < i; j++) {
            if (!capn_text_eq(Binary_get_name(List_Binary_get(c->bins, j)), name))
                continue;
            b = mf_fail(c, MANIFEST_E_DUPLICATE, "binaries", (int)i, "name", -1, NULL);
            mf_put_q(b, name);
            mf_put(b, " is also the name of binaries[");
            mf_put_u(b, j);
            mf_put(b, "]: expected unique names");
            return false;
        }
        struct capn_data elf = Binary_get_elf(bin);
        if (!mf_msg_ok(c, "binaries", (int)i, "elf", -1, NULL))
            return false;
        if (elf.len == 0) {
            b = mf_fail(c, MANIFEST_E_MISSING, "binaries", (int)i, "elf", -1, NULL);
            mf_put(b, "missing: expected the ELF image of ");
            mf_put_q(b, name);
            return false;
        }
        if (elf.len < 4 || elf.ptr[0] != 0x7f || elf.ptr[1] != 'E' || elf.ptr[2] != 'L' ||
            elf.ptr[3] != 'F') {
            b = mf_fail(c, MANIFEST_E_BINARY, "binaries", (int)i, "elf", -1, NULL);
            mf_put(b, "the image of ");
            mf_put_q(b, name);
            mf_put(b, " is not an ELF file: expected it to start with \\x7fELF");
            return false;
        }
    }
    return mf_msg_ok(c, "binaries", -1, NULL, -1, NULL);
}

/* ---- Capability grants ---- */

/* Names, interfaces and kernel sources of a CapSet. Service sources are
 * resolved later by resolve_caps(), once every service's exports are known
 * to be well formed. */
bool mf_check_caps(struct ck *c, struct proc p, List_CapGrant_r caps, uint32_t n)
{
    bool init = p.i < 0;
    struct sbuf *b;
    for (uint32_t k = 0; k < n; k++) {
        CapGrant_r g = List_CapGrant_get(caps, k);
        struct capn_text name = CapGrant_get_name(g);
        if (!mf_check_name(c, name, p.base, p.i, "caps", (int)k, "name"))
            return false;
        for (uint32_t j = 0; j < k; j++) {
            if (!capn_text_eq(CapGrant_get_name(List_CapGrant_get(caps, j)), name))
                continue;
            b = mf_fail(c, MANIFEST_E_DUPLICATE, p.base, p.i, "caps", (int)k, "name");
            mf_put_q(b, name);
            mf_put(b, " is also the name of caps[");
            mf_put_u(b, j);
            mf_put(b, "]: expected unique names in a CapSet");
            return false;
        }
        uint64_t want = CapGrant_get_interfaceId(g);
        if (want == 0) {
            mf_put(mf_fail(c, MANIFEST_E_INTERFACE, p.base, p.i, "caps", (int)k, "interfaceId"),
                   "missing: expected the id of the interface the program expects");
            return false;
        }
        CapGrant_source_r src = CapGrant_get_source(g);
        unsigned which = CapGrant_source_which(src);
        if (which == CapGrant_source_which_none) {
            mf_put(mf_fail(c, MANIFEST_E_MISSING, p.base, p.i, "caps", (int)k, "source"),
                   "missing: expected a kernel source or a service export");
            return false;
        }
        if (which == CapGrant_source_which_service) {
            if (!init)
                continue;
            b = mf_fail(c, MANIFEST_E_SOURCE, p.base, p.i, "caps", (int)k, "source");
            mf_put(b, "init's capabilities come from the kernel, not from service ");
            mf_put_q(b, CapGrant_source_service_get_name(CapGrant_source_get_service(src)));
            mf_put(b, " (init starts before any service)");
            return false;
        }
        if (which != CapGrant_source_which_kernel) {
            b = mf_fail(c, MANIFEST_E_VALUE, p.base, p.i, "caps", (int)k, "source");
            mf_put(b, "unknown kind of source ");
            mf_put_u(b, which);
            mf_put(b, ": expected a kernel source or a service export");
            return false;
        }
        unsigned ks = CapGrant_source_get_kernel(src);
        if (ks >= KernelSource_COUNT) {
            b = mf_fail(c, MANIFEST_E_SOURCE, p.base, p.i, "caps", (int)k, "source");
            mf_put(b, "unknown kernel source ");
            mf_put_u(b, ks);
            mf_put(b, ": expected ");
            put_sources(b);
            return false;
        }
        if (want != manifest_kernel_iface(ks)) {
            b = mf_fail(c, MANIFEST_E_INTERFACE, p.base, p.i, "caps", (int)k, "interfaceId");
            mf_put(b, "expects ");
            mf_put_iface(b, want);
            mf_put(b, ", but kernel source \"");
            mf_put(b, KernelSource_NAMES[ks]);
            mf_put(b, "\" is a ");
            mf_put_iface(b, manifest_kernel_iface(ks));
            return false;
        }
        if (init) {
            c->held |= 1u << ks;
        } else if (!(c->held & (1u << ks))) {
            b = mf_fail(c, MANIFEST_E_NOT_HELD, p.base, p.i, "caps", (int)k, "source");
            mf_put(b, "init does not hold kernel source \"");
            mf_put(b, KernelSource_NAMES[ks]);
            mf_put(b, "\": add it to initConfig.init.caps so that init can pass it on");
            return false;
        }
    }
    return mf_msg_ok(c, p.base, p.i, "caps", -1, NULL);
}

/* ---- The boot subset ---- */

static bool check_init(struct ck *c)
{
    SystemManifest_r r = c->m->root;
    if (!SystemManifest_has_initConfig(r)) {
        mf_put(mf_fail(c, MANIFEST_E_MISSING, "initConfig", -1, NULL, -1, NULL),
               "missing: expected init and the services it starts");
        return false;
    }
    c->ic = SystemManifest_get_initConfig(r);
    if (!mf_msg_ok(c, "initConfig", -1, NULL, -1, NULL))
        return false;
    if (!InitConfig_has_init(c->ic)) {
        mf_put(mf_fail(c, MANIFEST_E_MISSING, "initConfig.init", -1, NULL, -1, NULL),
               "missing: expected the program the kernel starts");
        return false;
    }
    Init_r init = InitConfig_get_init(c->ic);
    struct proc p = {"initConfig.init", -1};
    if (!mf_msg_ok(c, p.base, -1, NULL, -1, NULL) ||
        !mf_check_binary_ref(c, Init_get_binary(init), p.base, -1))
        return false;
    List_CapGrant_r caps = Init_get_caps(init);
    uint32_t n = List_CapGrant_len(caps);
    return mf_msg_ok(c, p.base, -1, "caps", -1, NULL) &&
           mf_check_len(c, n, MANIFEST_MAX_CAPS, "capabilities", p.base, -1, "caps") &&
           mf_check_caps(c, p, caps, n);
}

static bool check_params(struct ck *c)
{
    SystemManifest_r r = c->m->root;
    if (!SystemManifest_has_kernelParams(r)) {
        mf_put(mf_fail(c, MANIFEST_E_MISSING, "kernelParams", -1, NULL, -1, NULL),
               "missing: expected the kernel parameters (at least an empty struct)");
        return false;
    }
    struct capn_text motd = KernelParams_get_motd(SystemManifest_get_kernelParams(r));
    if (!mf_msg_ok(c, "kernelParams", -1, "motd", -1, NULL) ||
        !mf_check_len(c, motd.len, MANIFEST_MOTD_MAX, "bytes", "kernelParams", -1, "motd"))
        return false;
    for (uint32_t i = 0; i < motd.len; i++) {
        unsigned char ch = (unsigned char)motd.str[i];
        if (ch >= 0x20 ? ch != 0x7f : (ch == '\n' || ch == '\t'))
            continue;
        struct sbuf *b = mf_fail(c, MANIFEST_E_VALUE, "kernelParams", -1, "motd", -1, NULL);
        mf_put(b, "control character ");
        put_hex(b, ch);
        mf_put(b, " at byte ");
        mf_put_u(b, i);
        mf_put(b, ": expected printable text, newlines and tabs");
        return false;
    }
    return true;
}

static bool check_boot(struct ck *c)
{
    uint32_t v = SystemManifest_get_schemaVersion(c->m->root);
    if (v != manifestSchemaVersion) {
        struct sbuf *b = mf_fail(c, v ? MANIFEST_E_VERSION : MANIFEST_E_MISSING, "schemaVersion",
                                 -1, NULL, -1, NULL);
        if (v == 0) {
            mf_put(b, "missing");
        } else {
            mf_put_u(b, v);
            mf_put(b, " is not supported");
        }
        mf_put(b, ": expected ");
        mf_put_u(b, manifestSchemaVersion);
        return false;
    }
    return check_binaries(c) && check_init(c) && check_params(c);
}

int manifest_open(struct manifest *m, const void *buf, size_t len, struct manifest_error *e)
{
    struct ck c = {.m = m, .e = e};
    size_t used = 0;
    e->code = MANIFEST_OK;
    e->path[0] = e->msg[0] = 0;
    enum capn_err err = capn_msg_read(&m->msg, m->segs, MANIFEST_MAX_SEGS, buf, len, &used);
    if (err != CAPN_OK) {
        struct sbuf *b = mf_fail(&c, MANIFEST_E_MESSAGE, NULL, -1, NULL, -1, NULL);
        mf_put(b, "not a Cap'n Proto message: ");
        mf_put(b, capn_err_str(err));
        return -1;
    }
    if (used != len) {
        struct sbuf *b = mf_fail(&c, MANIFEST_E_MESSAGE, NULL, -1, NULL, -1, NULL);
        mf_put_u(b, len - used);
        mf_put(b, " bytes after the message: expected exactly one framed message");
        return -1;
    }
    if (capn_ptr_type(capn_msg_root(&m->msg)) != CAPN_PT_STRUCT) {
        mf_put(mf_fail(&c, MANIFEST_E_MESSAGE, NULL, -1, NULL, -1, NULL),
               "the root is not a struct: expected a SystemManifest");
        return -1;
    }
    m->root = SystemManifest_read_root(&m->msg);
    return mf_msg_ok(&c, NULL, -1, NULL, -1, NULL) ? 0 : -1;
}

int manifest_check_boot(struct manifest *m, struct manifest_error *e)
{
    struct ck c = {.m = m, .e = e};
    e->code = MANIFEST_OK;
    e->path[0] = e->msg[0] = 0;
    return check_boot(&c) ? 0 : -1;
}

int manifest_check(struct manifest *m, struct manifest_error *e)
{
    struct ck c = {.m = m, .e = e};
    struct mf_graph g;
    e->code = MANIFEST_OK;
    e->path[0] = e->msg[0] = 0;
    return check_boot(&c) && mf_check_services(&c, &g) ? 0 : -1;
}

bool manifest_find_binary(struct manifest *m, const char *name, size_t len, struct capn_data *elf)
{
    List_Binary_r bins = SystemManifest_get_binaries(m->root);
    uint32_t n = List_Binary_len(bins);
    struct capn_text want = {name, (uint32_t)len};
    if (len > MANIFEST_NAME_MAX || n > MANIFEST_MAX_BINARIES)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        Binary_r b = List_Binary_get(bins, i);
        if (capn_text_eq(Binary_get_name(b), want)) {
            *elf = Binary_get_elf(b);
            return m->msg.err == CAPN_OK;
        }
    }
    return false;
}

const char *manifest_err_name(enum manifest_err code)
{
    static const char *const names[] = {
        [MANIFEST_OK] = "ok",
        [MANIFEST_E_MESSAGE] = "malformed message",
        [MANIFEST_E_MISSING] = "missing",
        [MANIFEST_E_VERSION] = "unsupported version",
        [MANIFEST_E_NAME] = "bad name",
        [MANIFEST_E_TOO_MANY] = "too many",
        [MANIFEST_E_DUPLICATE] = "duplicate",
        [MANIFEST_E_BINARY] = "bad binary",
        [MANIFEST_E_SOURCE] = "bad source",
        [MANIFEST_E_INTERFACE] = "interface mismatch",
        [MANIFEST_E_NOT_HELD] = "not held by init",
        [MANIFEST_E_CYCLE] = "dependency cycle",
        [MANIFEST_E_VALUE] = "bad value",
    };
    if ((unsigned)code < sizeof(names) / sizeof(names[0]))
        return names[code];
    return "unknown error";
}
