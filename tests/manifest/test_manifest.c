/*
 * lib/manifest/manifest.c against valid and hostile manifests: each test breaks the
 * baseline (mdesc.h) in one way and checks the error code, the path and
 * that the explanation says what was expected.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>

#include "mdesc.h"

static void expect_err(const struct mdesc *d, enum manifest_err code, const char *path,
                       const char *text)
{
    struct manifest_error e;
    memset(&e, 0x55, sizeof(e));
    cr_assert_eq(check_desc(d, &e), -1, "accepted; expected %s at %s", manifest_err_name(code),
                 path);
    cr_expect_eq(e.code, code, "error %s (%s: %s); expected %s", manifest_err_name(e.code), e.path,
                 e.msg, manifest_err_name(code));
    cr_expect_str_eq(e.path, path, "path %s (%s); expected %s", e.path, e.msg, path);
    cr_expect(strstr(e.msg, text) != NULL, "message \"%s\" lacks \"%s\"", e.msg, text);
}

static void expect_ok(const struct mdesc *d)
{
    struct manifest_error e;
    cr_assert_eq(check_desc(d, &e), 0, "refused: %s: %s", e.path, e.msg);
    cr_expect_eq(e.code, MANIFEST_OK);
}

Test(valid, baseline)
{
    struct mdesc *d = mdesc_new();
    expect_ok(d);
    free(d);
}

Test(valid, no_services_needs_no_spawner)
{
    struct mdesc *d = mdesc_new();
    d->nsvcs = 0;
    d->ninit = 1;
    expect_ok(d);
    free(d);
}

Test(valid, boot_subset_ignores_services)
{
    struct mdesc *d = mdesc_new();
    d->svcs[1].caps[0].svc = "nobody"; /* a graph error the kernel does not look at */
    size_t len;
    uint8_t *buf = mdesc_encode(d, &len);
    struct manifest m;
    struct manifest_error e;
    cr_assert_eq(manifest_open(&m, buf, len, &e), 0, "%s", e.msg);
    cr_expect_eq(manifest_check_boot(&m, &e), 0, "%s: %s", e.path, e.msg);
    cr_expect_eq(manifest_check(&m, &e), -1);
    cr_expect_eq(e.code, MANIFEST_E_SOURCE);
    free(buf);
    free(d);
}

Test(valid, find_binary)
{
    struct mdesc *d = mdesc_new();
    size_t len;
    uint8_t *buf = mdesc_encode(d, &len);
    struct manifest m;
    struct manifest_error e;
    struct capn_data elf;
    cr_assert_eq(manifest_open(&m, buf, len, &e), 0);
    cr_assert(manifest_find_binary(&m, "app", 3, &elf));
    cr_expect_eq(elf.len, sizeof(t_elf));
    cr_expect_eq(memcmp(elf.ptr, t_elf, sizeof(t_elf)), 0);
    cr_expect(!manifest_find_binary(&m, "ap", 2, &elf));
    cr_expect(!manifest_find_binary(&m, "appx", 4, &elf));
    free(buf);
    free(d);
}

Test(valid, kernel_sources)
{
    cr_expect_eq(manifest_kernel_iface(KernelSource_console), Console_INTERFACE_ID);
    cr_expect_eq(manifest_kernel_iface(KernelSource_vm), VirtualMemory_INTERFACE_ID);
    cr_expect_eq(manifest_kernel_iface(KernelSource_spawner), ProcessSpawner_INTERFACE_ID);
    cr_expect_eq(manifest_kernel_iface(KernelSource_bootPackage), BootPackage_INTERFACE_ID);
    cr_expect_eq(manifest_kernel_iface(KernelSource_COUNT), 0);
    cr_expect_str_eq(manifest_err_name(MANIFEST_E_CYCLE), "dependency cycle");
    cr_expect_str_eq(manifest_err_name((enum manifest_err)99), "unknown error");
}

/* ---- Root fields ---- */

Test(root, missing_version)
{
    struct mdesc *d = mdesc_new();
    d->version = 0;
    expect_err(d, MANIFEST_E_MISSING, "schemaVersion", "missing: expected 1");
    free(d);
}

Test(root, wrong_version)
{
    struct mdesc *d = mdesc_new();
    d->version = 7;
    expect_err(d, MANIFEST_E_VERSION, "schemaVersion", "7 is not supported: expected 1");
    free(d);
}

Test(root, missing_binaries)
{
    struct mdesc *d = mdesc_new();
    d->no_binaries = true;
    expect_err(d, MANIFEST_E_MISSING, "binaries", "at least init's");
    d->no_binaries = false;
    d->nbins = 0;
    expect_err(d, MANIFEST_E_MISSING, "binaries", "empty");
    free(d);
}

Test(root, missing_initconfig)
{
    struct mdesc *d = mdesc_new();
    d->no_initconfig = true;
    expect_err(d, MANIFEST_E_MISSING, "initConfig", "missing");
    free(d);
}

Test(root, missing_init)
{
    struct mdesc *d = mdesc_new();
    d->no_init = true;
    expect_err(d, MANIFEST_E_MISSING, "initConfig.init", "the program the kernel starts");
    free(d);
}

Test(root, missing_params)
{
    struct mdesc *d = mdesc_new();
    d->no_params = true;
    expect_err(d, MANIFEST_E_MISSING, "kernelParams", "missing");
    free(d);
}

Test(root, motd)
{
    struct mdesc *d = mdesc_new();
    char *big = malloc(MANIFEST_MOTD_MAX + 2);
    memset(big, 'x', MANIFEST_MOTD_MAX + 1);
    big[MANIFEST_MOTD_MAX + 1] = 0;
    d->motd = big;
    expect_err(d, MANIFEST_E_TOO_MANY, "kernelParams.motd", "1025 bytes; at most 1024");
    big[MANIFEST_MOTD_MAX] = 0;
    expect_ok(d);
    d->motd = "ok\tline\nbad \x1b[2J";
    expect_err(d, MANIFEST_E_VALUE, "kernelParams.motd", "control character 0x000000000000001b");
    free(big);
    free(d);
}

/* ---- Binaries ---- */

Test(binaries, unknown_init_binary)
{
    struct mdesc *d = mdesc_new();
    d->init_binary = "inti";
    expect_err(d, MANIFEST_E_BINARY, "initConfig.init.binary", "no binary named \"inti\"");
    d->init_binary = NULL;
    expect_err(d, MANIFEST_E_MISSING, "initConfig.init.binary", "missing: expected a name");
    free(d);
}

Test(binaries, unknown_service_binary)
{
    struct mdesc *d = mdesc_new();
    d->svcs[1].binary = "ap";
    expect_err(d, MANIFEST_E_BINARY, "initConfig.services[1].binary", "no binary named \"ap\"");
    free(d);
}

Test(binaries, duplicate)
{
    struct mdesc *d = mdesc_new();
    add_bin(d, "log-svc");
    expect_err(d, MANIFEST_E_DUPLICATE, "binaries[3].name",
               "\"log-svc\" is also the name of binaries[1]");
    free(d);
}

Test(binaries, not_elf)
{
    struct mdesc *d = mdesc_new();
    static const uint8_t sh[] = "#!/bin/sh\n";
    d->bins[2].elf = sh;
    d->bins[2].len = sizeof(sh);
    expect_err(d, MANIFEST_E_BINARY, "binaries[2].elf", "\"app\" is not an ELF file");
    d->bins[2].len = 0;
    expect_err(d, MANIFEST_E_MISSING, "binaries[2].elf", "the ELF image of \"app\"");
    d->bins[2].elf = t_elf;
    d->bins[2].len = 3;
    expect_err(d, MANIFEST_E_BINARY, "binaries[2].elf", "not an ELF file");
    free(d);
}

/* ---- Names ---- */

Test(names, lengths)
{
    struct mdesc *d = mdesc_new();
    char n32[33], n33[34];
    memset(n32, 'a', 32);
    n32[32] = 0;
    memset(n33, 'b', 33);
    n33[33] = 0;
    d->svcs[0].name = n32;
    d->svcs[1].caps[0].svc = n32;
    expect_ok(d);
    d->svcs[0].name = n33;
    expect_err(d, MANIFEST_E_NAME, "initConfig.services[0].name",
               "is 33 bytes long; a name has at most 32");
    free(d);
}

Test(names, shapes)
{
    struct mdesc *d = mdesc_new();
    d->init_caps[1].name = "time.r";
    expect_err(d, MANIFEST_E_NAME, "initConfig.init.caps[1].name", "\"time.r\" is not a name");
    d->init_caps[1].name = "9lives";
    expect_err(d, MANIFEST_E_NAME, "initConfig.init.caps[1].name", "expected a letter");
    d->init_caps[1].name = "t\xc3\xa9";
    expect_err(d, MANIFEST_E_NAME, "initConfig.init.caps[1].name", "\"t\\xc3\\xa9\"");
    d->init_caps[1].name = "a\"b";
    expect_err(d, MANIFEST_E_NAME, "initConfig.init.caps[1].name", "\"a\\x22b\"");
    d->init_caps[1].name = "";
    expect_err(d, MANIFEST_E_MISSING, "initConfig.init.caps[1].name", "missing");
    d->init_caps[1].name = "Timer_2-b";
    expect_ok(d);
    d->bins[0].name = "in it";
    expect_err(d, MANIFEST_E_NAME, "binaries[0].name", "\"in it\" is not a name");
    free(d);
}

Test(names, interior_nul)
{
    /* Text whose bytes include a NUL before the terminator. */
    struct mdesc *d = mdesc_new();
    d->svcs[0].exports[0].name = "con";
    size_t len;
    uint8_t *buf = mdesc_encode(d, &len);
    uint8_t *p = memmem(buf, len, "con\0", 4);
    cr_assert(p != NULL);
    p[1] = 0; /* "c\0n" */
    struct manifest_error e;
    cr_expect_eq(check_bytes(buf, len, &e), -1);
    cr_expect_eq(e.code, MANIFEST_E_NAME, "%s: %s", e.path, e.msg);
    cr_expect_str_eq(e.path, "initConfig.services[0].exports[0].name");
    cr_expect(strstr(e.msg, "\"c\\x00n\"") != NULL, "%s", e.msg);
    free(buf);
    free(d);
}

/* ---- Duplicates ---- */

Test(duplicates, services)
{
    struct mdesc *d = mdesc_new();
    struct tsvc *s = add_svc(d, "log", "app");
    (void)s;
    expect_err(d, MANIFEST_E_DUPLICATE, "initConfig.services[2].name",
               "\"log\" is also the name of initConfig.services[0]");
    free(d);
}

Test(duplicates, cap_names)
{
    struct mdesc *d = mdesc_new();
    d->init_caps[3].name = "console";
    expect_err(d, MANIFEST_E_DUPLICATE, "initConfig.init.caps[3].name",
               "\"console\" is also the name of caps[0]");
    d->init_caps[3].name = "boot";
    d->svcs[1].caps[1].name = "log";
    expect_err(d, MANIFEST_E_DUPLICATE, "initConfig.services[1].caps[1].name",
               "is also the name of caps[0]");
    free(d);
}

Test(duplicates, exports)
{
    struct mdesc *d = mdesc_new();
    add_export(&d->svcs[0], "console", Console_INTERFACE_ID);
    expect_err(d, MANIFEST_E_DUPLICATE, "initConfig.services[0].exports[1].name",
               "\"console\" is also the name of exports[0]");
    d->svcs[0].nexports = 1;
    d->svcs[0].caps[0].name = "console";
    d->svcs[0].exports[0].name = "console";
    expect_err(d, MANIFEST_E_DUPLICATE, "initConfig.services[0].exports[0].name",
               "is also the name of caps[0]: a service's caps and exports share its CapSet");
    free(d);
}

/* ---- Sources and interfaces ---- */

Test(sources, unknown_kernel_source)
{
    struct mdesc *d = mdesc_new();
    /* The first number past the schema's sources. */
    d->init_caps[1].kernel = 16;
    _Static_assert(KernelSource_COUNT == 16, "a new kernel source: update this test");
    expect_err(d, MANIFEST_E_SOURCE, "initConfig.init.caps[1].source",
               "unknown kernel source 16: expected console, timer, entropy, frames, vm, "
               "bootPackage, spawner, attenuator, endpoints, terminal, power, ledger, threads, "
               "threadControl, park or network");
    free(d);
}

Test(sources, missing_and_bogus_kind)
{
    struct mdesc *d = mdesc_new();
    d->svcs[1].caps[1].which = CapGrant_source_which_none;
    expect_err(d, MANIFEST_E_MISSING, "initConfig.services[1].caps[1].source",
               "expected a kernel source or a service export");
    d->svcs[1].caps[1].which = 3;
    expect_err(d, MANIFEST_E_VALUE, "initConfig.services[1].caps[1].source",
               "unknown kind of source 3");
    free(d);
}

Test(sources, no_such_export)
{
    struct mdesc *d = mdesc_new();
    struct tsvc *chat = add_svc(d, "chat", "app");
    add_export(chat, "room", Console_INTERFACE_ID);
    struct tsvc *s = &d->svcs[1];
    s->caps[s->ncaps++] = scap("chat", Console_INTERFACE_ID, "chat", "endpoint");
    expect_err(d, MANIFEST_E_SOURCE, "initConfig.services[1].caps[2].source",
               "no service exports \"chat.endpoint\": service \"chat\" has no export "
               "\"endpoint\"");
    s->caps[2].svc = "chatt";
    expect_err(d, MANIFEST_E_SOURCE, "initConfig.services[1].caps[2].source",
               "no service exports \"chatt.endpoint\": there is no service \"chatt\"");
    s->caps[2].svc = "chat";
    s->caps[2].exp = "room";
    expect_ok(d);
    s->caps[2].exp = NULL;
    expect_err(d, MANIFEST_E_MISSING, "initConfig.services[1].caps[2].source.service.export",
               "missing");
    free(d);
}

Test(sources, kernel_interface_mismatch)
{
    struct mdesc *d = mdesc_new();
    d->init_caps[1].iface = Console_INTERFACE_ID;
    expect_err(d, MANIFEST_E_INTERFACE, "initConfig.init.caps[1].interfaceId",
               "expects Console (0xa3b90b046e5043e0), but kernel source \"timer\" is a Timer "
               "(0xa97e1d2f4d232b4a)");
    d->init_caps[1].iface = 0;
    expect_err(d, MANIFEST_E_INTERFACE, "initConfig.init.caps[1].interfaceId", "missing");
    free(d);
}

Test(sources, export_interface_mismatch)
{
    struct mdesc *d = mdesc_new();
    d->svcs[1].caps[0].iface = Timer_INTERFACE_ID;
    expect_err(d, MANIFEST_E_INTERFACE, "initConfig.services[1].caps[0].interfaceId",
               "expects Timer (0xa97e1d2f4d232b4a), but \"log.console\" is a Console");
    d->svcs[1].caps[0].iface = 0x1234;
    expect_err(d, MANIFEST_E_INTERFACE, "initConfig.services[1].caps[0].interfaceId",
               "expects interface 0x0000000000001234");
    d->svcs[1].caps[0].iface = Console_INTERFACE_ID;
    d->svcs[0].exports[0].iface = 0;
    expect_err(d, MANIFEST_E_INTERFACE, "initConfig.services[0].exports[0].interfaceId", "missing");
    free(d);
}

Test(sources, init_from_service)
{
    struct mdesc *d = mdesc_new();
    d->init_caps[d->ninit++] = scap("log", Console_INTERFACE_ID, "log", "console");
    expect_err(d, MANIFEST_E_SOURCE, "initConfig.init.caps[4].source",
               "init's capabilities come from the kernel, not from service \"log\"");
    free(d);
}

Test(sources, not_held_by_init)
{
    struct mdesc *d = mdesc_new();
    struct tsvc *s = &d->svcs[1];
    s->caps[s->ncaps++] = kcap("frames", KernelSource_frames);
    expect_err(d, MANIFEST_E_NOT_HELD, "initConfig.services[1].caps[2].source",
               "init does not hold kernel source \"frames\"");
    d->init_caps[d->ninit++] = kcap("mem", KernelSource_frames);
    expect_ok(d);
    free(d);
}

Test(sources, services_need_spawner)
{
    struct mdesc *d = mdesc_new();
    d->init_caps[2] = kcap("entropy", KernelSource_entropy);
    expect_err(d, MANIFEST_E_NOT_HELD, "initConfig.init.caps", "\"spawner\" (ProcessSpawner)");
    free(d);
}

Test(sources, restart_policy)
{
    struct mdesc *d = mdesc_new();
    d->svcs[0].restart = RestartPolicy_always;
    expect_ok(d);
    d->svcs[0].restart = 3;
    expect_err(d, MANIFEST_E_VALUE, "initConfig.services[0].restart",
               "unknown restart policy 3: expected never, onFailure or always");
    free(d);
}

Test(sources, memory_quota_bounded)
{
    /* 0 means the default; the largest a service may ask for is 64 GiB;
     * one more (or a hostile 2^32 - 1) is refused with the limit named. */
    struct mdesc *d = mdesc_new();
    d->svcs[0].memory_mib = 0;
    expect_ok(d);
    d->svcs[0].memory_mib = MANIFEST_MAX_MEMORY_MIB;
    expect_ok(d);
    d->svcs[0].memory_mib = MANIFEST_MAX_MEMORY_MIB + 1;
    expect_err(d, MANIFEST_E_VALUE, "initConfig.services[0].memoryMiB",
               "65537 MiB is more than the 65536 a service may ask for");
    d->svcs[0].memory_mib = UINT32_MAX;
    expect_err(d, MANIFEST_E_VALUE, "initConfig.services[0].memoryMiB",
               "4294967295 MiB is more than the 65536 a service may ask for");
    free(d);
}

/* ---- Cycles ---- */

/* Service `from` uses export "ep" of service `to`. */
static void use(struct mdesc *d, int from, int to)
{
    struct tsvc *s = &d->svcs[from];
    const char *name = tname("dep", s->ncaps);
    s->caps[s->ncaps++] = scap(name, Console_INTERFACE_ID, d->svcs[to].name, "ep");
}

static struct mdesc *ring_of(int n)
{
    static const char *names[] = {"a", "b", "c", "d"};
    struct mdesc *d = mdesc_new();
    d->nsvcs = 0;
    for (int i = 0; i < n + 1; i++)
        add_export(add_svc(d, names[i], "app"), "ep", Console_INTERFACE_ID);
    return d;
}

Test(cycles, self)
{
    struct mdesc *d = ring_of(1);
    use(d, 0, 0);
    expect_err(d, MANIFEST_E_CYCLE, "initConfig.services[0].caps[0].source",
               "dependency cycle: \"a\" -> \"a\" (a service cannot use its own exports)");
    free(d);
}

Test(cycles, two)
{
    struct mdesc *d = ring_of(2);
    use(d, 0, 2); /* a -> c, outside the cycle */
    use(d, 0, 1);
    use(d, 1, 0);
    expect_err(d, MANIFEST_E_CYCLE, "initConfig.services[1].caps[0].source",
               "dependency cycle: \"a\" -> \"b\" -> \"a\"");
    free(d);
}

Test(cycles, three)
{
    struct mdesc *d = ring_of(3);
    use(d, 1, 2);
    use(d, 2, 3);
    use(d, 3, 1);
    expect_err(d, MANIFEST_E_CYCLE, "initConfig.services[3].caps[0].source",
               "dependency cycle: \"b\" -> \"c\" -> \"d\" -> \"b\"");
    free(d);
}

Test(cycles, diamond_is_not_a_cycle)
{
    struct mdesc *d = ring_of(3);
    use(d, 0, 1);
    use(d, 0, 2);
    use(d, 1, 3);
    use(d, 2, 3);
    use(d, 1, 2);
    expect_ok(d);
    free(d);
}

Test(cycles, long_chain_closed)
{
    /* 64 services in a chain: fine; closing it is a cycle of 64, whose
     * message is cut to fit. */
    struct mdesc *d = mdesc_new();
    d->nsvcs = 0;
    for (int i = 0; i < MANIFEST_MAX_SERVICES; i++) {
        const char *name = tname("s", i);
        add_export(add_svc(d, name, "app"), "ep", Console_INTERFACE_ID);
    }
    for (int i = 0; i + 1 < MANIFEST_MAX_SERVICES; i++)
        use(d, i, i + 1);
    expect_ok(d);
    use(d, MANIFEST_MAX_SERVICES - 1, 0);
    struct manifest_error e;
    cr_assert_eq(check_desc(d, &e), -1);
    cr_expect_eq(e.code, MANIFEST_E_CYCLE);
    cr_expect_str_eq(e.path, "initConfig.services[63].caps[0].source");
    cr_expect_lt(strlen(e.msg), sizeof(e.msg));
    cr_expect(strncmp(e.msg, "dependency cycle: \"s0\" -> \"s1\" -> ", 33) == 0, "%s", e.msg);
    free(d);
}

/* ---- Limits ---- */

Test(limits, services)
{
    struct mdesc *d = mdesc_new();
    while (d->nsvcs < MANIFEST_MAX_SERVICES + 1) {
        const char *name = tname("x", d->nsvcs);
        add_svc(d, name, "app");
    }
    expect_err(d, MANIFEST_E_TOO_MANY, "initConfig.services", "65 services; at most 64");
    d->nsvcs--;
    expect_ok(d);
    free(d);
}

Test(limits, binaries)
{
    struct mdesc *d = mdesc_new();
    while (d->nbins < MANIFEST_MAX_BINARIES + 1) {
        const char *name = tname("b", d->nbins);
        add_bin(d, name);
    }
    expect_err(d, MANIFEST_E_TOO_MANY, "binaries", "65 binaries; at most 64");
    free(d);
}

Test(limits, caps_and_exports)
{
    struct mdesc *d = mdesc_new();
    struct tsvc *s = &d->svcs[0];
    while (s->nexports < MANIFEST_MAX_EXPORTS + 1) {
        const char *name = tname("e", s->nexports);
        add_export(s, name, Timer_INTERFACE_ID);
    }
    expect_err(d, MANIFEST_E_TOO_MANY, "initConfig.services[0].exports", "17 exports; at most 16");
    s->nexports = MANIFEST_MAX_EXPORTS;
    while (s->ncaps < MANIFEST_MAX_CAPS - MANIFEST_MAX_EXPORTS + 1) {
        const char *name = tname("c", s->ncaps);
        s->caps[s->ncaps++] = kcap(name, KernelSource_timer);
    }
    expect_err(d, MANIFEST_E_TOO_MANY, "initConfig.services[0].caps",
               "49 capabilities and 16 exports; a CapSet holds at most 64");
    s->ncaps--;
    expect_ok(d);
    while (d->ninit < MANIFEST_MAX_CAPS + 1) {
        const char *name = tname("k", d->ninit);
        d->init_caps[d->ninit++] = kcap(name, KernelSource_vm);
    }
    expect_err(d, MANIFEST_E_TOO_MANY, "initConfig.init.caps", "65 capabilities; at most 64");
    free(d);
}
