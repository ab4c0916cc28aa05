/*
 * capnpc-c: `capnp compile -o<path>/capnpc-c:<outdir> file.capnp` runs this
 * with the CodeGeneratorRequest on stdin and <outdir> as working directory.
 * For every requested file it writes <file>.h, <file>.c and <stem>.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capnpc.h"

/* The compiler version the generated code and tests are checked against. */
#define WANT_MAJOR 0
#define WANT_MINOR 9
#define WANT_MICRO 2

#ifdef __SANITIZE_ADDRESS__
/* The generator frees little before it exits; leaks are not bugs here. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif

static uint8_t *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *p = malloc(cap);
    for (;;) {
        if (p == NULL)
            fatal("out of memory");
        n += fread(p + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        p = realloc(p, cap);
    }
    if (ferror(f))
        fatal("reading the request failed");
    *len = n;
    return p;
}

static char *md_path(const char *filename, const char *stem)
{
    const char *slash = strrchr(filename, '/');
    if (slash == NULL)
        return xprintf("%s.md", stem);
    return xprintf("%.*s/%s.md", (int)(slash - filename), filename, stem);
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: capnp compile -o capnpc-c:OUTDIR FILE.capnp...\n");
        return 2;
    }
    size_t len;
    uint8_t *in = read_all(stdin, &len);
    struct capn_seg *segs = xcalloc(CAPN_MAX_SEGS, sizeof(*segs));
    struct capn_msg msg;
    enum capn_err e = capn_msg_read(&msg, segs, CAPN_MAX_SEGS, in, len, NULL);
    if (e != CAPN_OK)
        fatal("cannot read the CodeGeneratorRequest: %s", capn_err_str(e));
    /* The compiler is trusted, and the generator reads nodes many times. */
    msg.read_left = UINT64_MAX;

    struct gen g = {0};
    model_init(&g, &msg);
    CapnpVersion_r v = CodeGeneratorRequest_get_capnpVersion(g.req);
    if (CapnpVersion_get_major(v) != WANT_MAJOR || CapnpVersion_get_minor(v) != WANT_MINOR ||
        CapnpVersion_get_micro(v) != WANT_MICRO)
        fprintf(stderr, "capnpc-c: warning: compiler version %u.%u.%u, tested with %d.%d.%d\n",
                CapnpVersion_get_major(v), CapnpVersion_get_minor(v), CapnpVersion_get_micro(v),
                WANT_MAJOR, WANT_MINOR, WANT_MICRO);

    List_CodeGeneratorRequest_RequestedFile_r files =
        CodeGeneratorRequest_get_requestedFiles(g.req);
    int rc = 0;
    for (uint32_t i = 0; i < List_CodeGeneratorRequest_RequestedFile_len(files); i++) {
        CodeGeneratorRequest_RequestedFile_r f =
            List_CodeGeneratorRequest_RequestedFile_get(files, i);
        const char *name = txt(CodeGeneratorRequest_RequestedFile_get_filename(f));
        struct gen fg = g;
        memset(&fg.h, 0, sizeof(fg.h));
        memset(&fg.c, 0, sizeof(fg.c));
        memset(&fg.md, 0, sizeof(fg.md));
        fg.syms = NULL;
        fg.nsyms = fg.capsyms = 0;
        fg.lists = NULL;
        fg.nlists = fg.caplists = 0;
        gen_file(&fg, CodeGeneratorRequest_RequestedFile_get_id(f), name);
        buf_wrap(&fg.h, 100);
        buf_wrap(&fg.c, 100);
        if (!capn_ok(&msg))
            fatal("malformed request: %s", capn_err_str(msg.err));
        if (!buf_write_file(&fg.h, xprintf("%s.h", name)) ||
            !buf_write_file(&fg.c, xprintf("%s.c", name)) ||
            !buf_write_file(&fg.md, md_path(name, fg.stem)))
            rc = 1;
        buf_free(&fg.h);
        buf_free(&fg.c);
        buf_free(&fg.md);
    }
    return rc;
}
