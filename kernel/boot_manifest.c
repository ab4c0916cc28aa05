/*
 * Boot from the SystemManifest (docs/manifest.md). The kernel validates only
 * what it needs to start init (lib/manifest.c: manifest_check_boot): root
 * fields, the init binary, init's capability sources (kernel sources with
 * matching interface ids). init validates the whole service graph itself.
 */
#include "boot_manifest.h"

#include <arch/platform.h>

#include "capos.capnp.h"
#include "kobject.h"
#include "kprintf.h"
#include "manifest/manifest.h"
#include "objects/objects.h"
#include "process.h"

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

static struct kobject *kernel_source(uint16_t src, const void *module, size_t len)
{
    switch (src) {
    case KernelSource_console:
        return console_object();
    case KernelSource_timer:
        return timer_object();
    case KernelSource_entropy:
        return entropy_object();
    case KernelSource_frames:
        return frame_allocator_object();
    case KernelSource_vm:
        return virtual_memory_object();
    case KernelSource_bootPackage:
        return boot_package_object(module, len);
    case KernelSource_spawner:
        return process_spawner_object();
    case KernelSource_attenuator:
        return attenuator_object();
    case KernelSource_endpoints:
        return endpoint_factory_object();
    case KernelSource_terminal:
        return terminal_object();
    case KernelSource_power:
        return power_object();
    }
    return 0;
}

void boot_manifest_start(const void *module, size_t len)
{
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
        grants[i] = (struct process_grant){names[i], kernel_source(src, module, len),
                                           manifest_kernel_iface(src), 0};
    }
    const void *elf;
    size_t elf_len;
    if (!boot_manifest_binary(bin.str, bin.len, &elf, &elf_len) ||
        !process_create("init", elf, elf_len, grants, n)) {
        kprintf("capOS: boot stopped: init (binary \"%.*s\") could not be started\n", (int)bin.len,
                bin.str);
        arch_halt(HALT_FAILURE);
    }
}
