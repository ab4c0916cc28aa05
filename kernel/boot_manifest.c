/*
 * Boot from the SystemManifest (docs/manifest.md). The kernel validates only
 * what it needs to start init (lib/manifest/manifest.c: manifest_check_boot): root
 * fields, the init binary, init's capability sources (kernel sources with
 * matching interface ids). init validates the whole service graph itself.
 */
#include "boot_manifest.h"

#include <arch/platform.h>

#include "account.h"
#include "capos.capnp.h"
#include "kobject.h"
#include "kprintf.h"
#include "manifest/manifest.h"
#include "process.h"
#include "registry.h"

static struct manifest boot;

bool boot_manifest_binary(const char *name, size_t len, const void **elf, size_t *elf_len)
{
    struct capn_data d;
    if (!manifest_find_binary(&boot, name, len, &d))
        return false;
    *elf = d.ptr;
    *elf_len = d.len;
    return true;
}

static _Noreturn void refuse(const struct manifest_error *e)
{
    kprintf("capOS: boot stopped: invalid boot manifest: %s%s%s (%s)\n", e->path,
            e->path[0] ? ": " : "", e->msg, manifest_err_name(e->code));
    arch_halt(HALT_FAILURE);
}

void boot_manifest_start(const void *module, size_t len)
{
    const struct boot_module m = {module, len};
    struct manifest_error e;
    if (manifest_open(&boot, module, len, &e) != 0 || manifest_check_boot(&boot, &e) != 0)
        refuse(&e);

    KernelParams_r kp = SystemManifest_get_kernelParams(boot.root);
    struct capn_text motd = KernelParams_get_motd(kp);
    if (motd.len)
        kprintf("motd: %.*s\n", (int)motd.len, motd.str);

    Init_r init = InitConfig_get_init(SystemManifest_get_initConfig(boot.root));
    struct capn_text bin = Init_get_binary(init);
    List_CapGrant_r caps = Init_get_caps(init);
    uint32_t n = List_CapGrant_len(caps);
    /* manifest_check_boot bounded n and checked every source. */
    struct process_grant grants[MANIFEST_MAX_CAPS];
    char names[MANIFEST_MAX_CAPS][MANIFEST_NAME_MAX + 1];
    for (uint32_t i = 0; i < n && i < MANIFEST_MAX_CAPS; i++) {
        CapGrant_r g = List_CapGrant_get(caps, i);
        struct capn_text name = CapGrant_get_name(g);
        uint16_t src = (uint16_t)CapGrant_source_get_kernel(CapGrant_get_source(g));
        uint32_t k = 0;
        for (; k < name.len && k < MANIFEST_NAME_MAX; k++)
            names[i][k] = name.str[k];
        names[i][k] = 0;
        grants[i] = (struct process_grant){names[i], registry_source_object(src, &m),
                                           manifest_kernel_iface(src), 0};
    }
    const void *elf;
    size_t elf_len;
    const char *why;
    /* init gets all the machine's memory; it hands it out to the services
     * as the manifest says. */
    if (!boot_manifest_binary(bin.str, bin.len, &elf, &elf_len) ||
        !process_create("init", elf, elf_len, grants, n, account_machine(), ACCOUNT_ALL_ROOM,
                        &why)) {
        kprintf("capOS: boot stopped: init (binary \"%.*s\") could not be started\n", (int)bin.len,
                bin.str);
        arch_halt(HALT_FAILURE);
    }
}
