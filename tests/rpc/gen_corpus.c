/*
 * Writes the seed corpus of the rpc fuzz target (tests/fuzz/corpus/rpc):
 * message sequences a client sends, made with the unit tests' peer.
 * Build and run by hand: "make rpc-corpus" (mk/suite-rpc.mk).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

static uint8_t seq[1 << 16];
static size_t len;

static void save(const char *dir, const char *name, uint8_t mode)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(&mode, 1, 1, f) != 1 || fwrite(seq, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
    len = 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus DIR\n");
        return 2;
    }
    uint16_t one[] = {1}, zero[] = {0};
    len += peer_bootstrap(seq + len, 0);
    len += peer_call_promise(seq + len, 1, 0, NULL, 0, 0, "user");
    len += peer_call_promise(seq + len, 2, 1, one, 1, 0, "capSet");
    len += peer_finish(seq + len, 0, false);
    len += peer_finish(seq + len, 1, false);
    len += peer_finish(seq + len, 2, true);
    len += peer_release(seq + len, 0, 1);
    save(argv[1], "pipeline", 0x00);
    len += peer_bootstrap(seq + len, 0);
    len += peer_call(seq + len, 1, 0, 0, "login");
    len += peer_call_promise(seq + len, 2, 1, one, 1, 0, "a");
    len += peer_call_promise(seq + len, 3, 1, zero, 1, 0, "b");
    len += peer_call(seq + len, 4, 1, 0, "c");
    len += peer_finish(seq + len, 1, true);
    save(argv[1], "deferred", 0x32);
    for (uint32_t q = 0; q < 6; q++)
        len += peer_bootstrap(seq + len, q);
    len += peer_release(seq + len, 0, 7);
    save(argv[1], "limits", 0x01);
    len += peer_bootstrap(seq + len, 0);
    len += peer_call(seq + len, 1, 0, 99, "x");
    len += peer_call_promise(seq + len, 2, 1, one, 1, 0, "y");
    save(argv[1], "exception", 0x74);
    return 0;
}
