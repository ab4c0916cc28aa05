/*
 * credential-store: password verifiers (docs/argon2.md, docs/sessions.md).
 * No password is stored: each account keeps the Argon2id tag of its
 * password under a random salt, with the policy parameters t = 3,
 * m = 32 MiB, p = 1, a 16-byte salt and a 32-byte tag. Verification
 * recomputes the tag and compares it with ct_memeq.
 *
 * - At most 8 accounts, in memory only (gone at reboot).
 * - The 32 MiB work buffer is mapped once at start through VirtualMemory
 *   (the runtime heap grows in powers of two and would ask for 64 MiB, the
 *   whole frame quota), so a login never fails for want of memory.
 * - verify of an unknown user hashes too, against a dummy record with a
 *   random salt and tag, and fails the same way: the time does not say
 *   which users exist.
 * - Passwords are read in place from the received message, which the
 *   server loop wipes after each call; tags are wiped after comparing.
 *
 * Caps: "entropy" (salts), "vm" (the work buffer), "console" (optional).
 * Export: "creds" (CredentialStore).
 */
#include "crypto/argon2.h"
#include "crypto/ct.h"
#include "svc.h"

#define ACCOUNTS  8
#define T_COST    3
#define M_COST    32768 /* KiB */
#define LANES     1
#define SALT_LEN  16
#define TAG_LEN   32
#define WORK_ADDR 0x0000320000000000ull

/* The verifier record of docs/argon2.md. */
struct verifier {
    uint8_t algorithm; /* 2 = Argon2id */
    uint8_t version;   /* 0x13 */
    uint16_t lanes;
    uint32_t t_cost;
    uint32_t m_cost;
    uint8_t salt[SALT_LEN];
    uint8_t tag[TAG_LEN];
};

struct account {
    bool used;
    uint8_t user_len;
    char user[32]; /* zero-padded, so names compare over all 32 bytes */
    struct verifier v;
};

static struct account accounts[ACCOUNTS];
static struct account dummy; /* for unknown users: matches no password */
static uint32_t entropy;
static void *work;
static size_t work_size;

static bool random_bytes(void *out, uint32_t n)
{
    uint8_t p[64] __attribute__((aligned(8))), r[128] __attribute__((aligned(8)));
    struct capnpc_call c;
    EntropySource_fill_Results_r er;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    if (EntropySource_fill_call(&capos_transport, entropy, &c, n, &er) != CAPNPC_OK)
        return false;
    struct capn_data d = EntropySource_fill_Results_get_bytes(er);
    if (d.len != n)
        return false;
    memcpy(out, d.ptr, n);
    svc_wipe(r, sizeof(r));
    return true;
}

static void new_verifier(struct verifier *v)
{
    v->algorithm = ARGON2_ID;
    v->version = ARGON2_VERSION;
    v->lanes = LANES;
    v->t_cost = T_COST;
    v->m_cost = M_COST;
}

/* A record is input too: refuse parameters this store cannot afford or
 * does not know rather than attempt them. */
static bool affordable(const struct verifier *v)
{
    return v->algorithm == ARGON2_ID && v->version == ARGON2_VERSION && v->lanes == LANES &&
           v->t_cost >= 1 && v->t_cost <= T_COST && v->m_cost >= 8 && v->m_cost <= M_COST;
}

static enum argon2_status hash(const struct verifier *v, const char *pw, uint32_t pw_len,
                               uint8_t tag[TAG_LEN])
{
    struct argon2_params p = {
        .t_cost = v->t_cost,
        .m_cost = v->m_cost,
        .lanes = v->lanes,
        .pwd = pw,
        .pwd_len = pw_len,
        .salt = v->salt,
        .salt_len = SALT_LEN,
    };
    return argon2id_hash(&p, tag, TAG_LEN, work, work_size);
}

/* The account named user, or NULL. Every slot is compared over its whole
 * name buffer. */
static struct account *find(const char *user, uint32_t len)
{
    char name[32] = {0};
    memcpy(name, user, len);
    struct account *found = 0;
    for (int i = 0; i < ACCOUNTS; i++) {
        bool same = svc_ct_eq(name, accounts[i].user, sizeof(name));
        if (accounts[i].used && same)
            found = &accounts[i];
    }
    return found;
}

static int create(void *self, CredentialStore_create_Params_r params,
                  CredentialStore_create_Results_b results, void *ctx)
{
    (void)self, (void)results;
    struct capn_text user = CredentialStore_create_Params_get_user(params);
    struct capn_text pw = CredentialStore_create_Params_get_password(params);
    if (!svc_params_ok(ctx, params.s) || !svc_credentials_ok(ctx, "create", user, pw))
        return CAPNPC_OK;
    if (find(user.str, user.len))
        return svc_fail(ctx, CapException_Type_failed, "create: user \"%.*s\" exists already",
                        (int)user.len, user.str);
    struct account *a = 0;
    for (int i = 0; i < ACCOUNTS && !a; i++)
        if (!accounts[i].used)
            a = &accounts[i];
    if (!a)
        return svc_fail(ctx, CapException_Type_failed,
                        "create: the store is full (%d accounts); no more can be added", ACCOUNTS);
    struct verifier v;
    new_verifier(&v);
    if (!random_bytes(v.salt, SALT_LEN))
        return svc_fail(ctx, CapException_Type_failed, "create: no salt from EntropySource");
    enum argon2_status st = hash(&v, pw.str, pw.len, v.tag);
    if (st != ARGON2_SUCCESS)
        return svc_fail(ctx, CapException_Type_failed, "create: hashing failed (%s)",
                        argon2_status_name(st));
    memset(a->user, 0, sizeof(a->user));
    memcpy(a->user, user.str, user.len);
    a->user_len = (uint8_t)user.len;
    a->v = v;
    a->used = true;
    svc_wipe(&v, sizeof(v));
    capos_printf("credential-store: account \"%.*s\" created\n", (int)user.len, user.str);
    return CAPNPC_OK;
}

static int verify(void *self, CredentialStore_verify_Params_r params,
                  CredentialStore_verify_Results_b results, void *ctx)
{
    (void)self;
    struct capn_text user = CredentialStore_verify_Params_get_user(params);
    struct capn_text pw = CredentialStore_verify_Params_get_password(params);
    if (!svc_params_ok(ctx, params.s) || !svc_credentials_ok(ctx, "verify", user, pw))
        return CAPNPC_OK;
    struct account *a = find(user.str, user.len);
    bool known = a != 0;
    if (!a)
        a = &dummy; /* the same work, and a tag nothing matches */
    if (!affordable(&a->v))
        return svc_fail(ctx, CapException_Type_failed,
                        "verify: the stored record has parameters this store refuses");
    uint8_t tag[TAG_LEN];
    enum argon2_status st = hash(&a->v, pw.str, pw.len, tag);
    bool same = st == ARGON2_SUCCESS && ct_memeq(tag, a->v.tag, TAG_LEN);
    svc_wipe(tag, sizeof(tag));
    if (st != ARGON2_SUCCESS)
        return svc_fail(ctx, CapException_Type_failed, "verify: hashing failed (%s)",
                        argon2_status_name(st));
    CredentialStore_verify_Results_set_ok(results, known && same);
    return CAPNPC_OK;
}

static int count(void *self, CredentialStore_count_Params_r params,
                 CredentialStore_count_Results_b results, void *ctx)
{
    (void)self, (void)params, (void)ctx;
    uint32_t n = 0;
    for (int i = 0; i < ACCOUNTS; i++)
        n += accounts[i].used;
    CredentialStore_count_Results_set_users(results, n);
    return CAPNPC_OK;
}

static const struct CredentialStore_ops ops = {.create = create, .verify = verify, .count = count};

int main(void)
{
    svc_name = "credential-store";
    entropy = svc_need("entropy", EntropySource_INTERFACE_ID);
    uint32_t vm = svc_need("vm", VirtualMemory_INTERFACE_ID);
    struct capos_server srv = {
        .endpoint = svc_need("creds", CredentialStore_INTERFACE_ID),
        .iface = &CredentialStore_IFACE,
        .ops = &ops,
    };
    work_size = argon2_work_size(M_COST, LANES);
    uint8_t p[128] __attribute__((aligned(8))), r[256] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    if (VirtualMemory_map_call(&capos_transport, vm, &c, WORK_ADDR, (uint32_t)(work_size / 4096),
                               true, false, 0) != CAPNPC_OK) {
        capos_printf("credential-store: could not map the %u KiB Argon2 work buffer; exiting\n",
                     (unsigned)(work_size / 1024));
        return 1;
    }
    work = (void *)WORK_ADDR;
    new_verifier(&dummy.v);
    if (!random_bytes(dummy.v.salt, SALT_LEN) || !random_bytes(dummy.v.tag, TAG_LEN)) {
        capos_printf("credential-store: EntropySource gave no bytes; exiting\n");
        return 1;
    }
    capos_printf("credential-store: Argon2id t=%d m=%d KiB p=%d, up to %d accounts\n", T_COST,
                 M_COST, LANES, ACCOUNTS);
    int rc = svc_serve(&srv);
    return rc < 0 ? 1 : 0;
}
