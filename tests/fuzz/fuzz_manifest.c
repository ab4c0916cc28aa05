/*
 * libFuzzer target for SystemManifest validation (lib/manifest/manifest.c). The input
 * is a framed message in a buffer of exactly its size. Besides not crashing,
 * the checker must keep its promises, checked here independently:
 *   - path and message are NUL-terminated, and every error has a message;
 *   - the full check passes only if the boot subset does, and a failing
 *     boot subset fails the full check with the same error;
 *   - checking twice gives the same answer;
 *   - after a pass, init's binary is found and is an ELF image.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void check_error(const struct manifest_error *e, int rc)
{
    check(memchr(e->path, 0, sizeof(e->path)) != NULL);
    check(memchr(e->msg, 0, sizeof(e->msg)) != NULL);
    if (rc == 0)
        check(e->code == MANIFEST_OK);
    else
        check(rc == -1 && e->code > MANIFEST_OK && e->code <= MANIFEST_E_VALUE && e->msg[0]);
}

static int run(const uint8_t *buf, size_t len, int boot, struct manifest_error *e)
{
    struct manifest m;
    memset(e, 0x55, sizeof(*e));
    int rc = manifest_open(&m, buf, len, e);
    if (rc == 0)
        rc = boot ? manifest_check_boot(&m, e) : manifest_check(&m, e);
    check_error(e, rc);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct manifest_error boot, full, again;
    int rb = run(buf, size, 1, &boot);
    int rf = run(buf, size, 0, &full);
    int ra = run(buf, size, 0, &again);
    check(rf == ra && full.code == again.code && strcmp(full.path, again.path) == 0 &&
          strcmp(full.msg, again.msg) == 0);
    if (rb != 0)
        check(rf != 0 && full.code == boot.code && strcmp(full.path, boot.path) == 0);
    if (rf == 0) {
        struct manifest m;
        struct capn_data elf;
        check(rb == 0);
        check(manifest_open(&m, buf, size, &full) == 0);
        struct capn_text name =
            Init_get_binary(InitConfig_get_init(SystemManifest_get_initConfig(m.root)));
        check(manifest_find_binary(&m, name.str, name.len, &elf));
        check(elf.len >= 4 && memcmp(elf.ptr,
                                     "\x7f"
                                     "ELF",
                                     4) == 0);
    }
    free(buf);
    return 0;
}
