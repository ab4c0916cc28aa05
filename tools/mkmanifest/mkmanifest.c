/*
 * mkmanifest: compile a capOS system (CUE) into the binary SystemManifest
 * that is the kernel's one boot module. docs/manifest.md has the details.
 *
 *   mkmanifest -o OUT [--binary NAME=PATH]... [--cue PROGRAM] FILE.cue...
 *       evaluate the CUE files (PROGRAM export --out json -e manifest
 *       FILES; PROGRAM defaults to tools/cue-manifest.js, which explains
 *       each mistake at its file and line), build the manifest with
 *       the named ELF files embedded, validate all of it with lib/manifest
 *       and write OUT.
 *   mkmanifest -o OUT [--binary NAME=PATH]... --json FILE
 *       the same from JSON already exported ("-" for stdin).
 *   mkmanifest --check MANIFEST
 *       validate an existing binary manifest.
 *   mkmanifest --kernel-sources-cue
 *       print cue/kernel-sources.cue: the kernel sources and the interface
 *       of each (enum KernelSource, $C.implements) and the names of the
 *       interfaces, from the schema.
 *
 * Exit status 0 on success, 1 on an error in the input (reported on
 * stderr with the path of the field and what was expected), 2 on a usage
 * error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capnp/capnp_host.h"
#include "manifest/manifest.h"
#include "mkmanifest.h"

#define MAX_FILE (256u << 20) /* largest input file we read */

static void usage(void)
{
    fprintf(stderr, "usage: mkmanifest -o OUT [--binary NAME=PATH]... [--cue PROGRAM] FILE.cue...\n"
                    "       mkmanifest -o OUT [--binary NAME=PATH]... --json FILE\n"
                    "       mkmanifest --check MANIFEST\n"
                    "       mkmanifest --kernel-sources-cue\n");
    exit(2);
}

static void *read_all(FILE *f, const char *what, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap + 1);
    for (;;) {
        if (buf == NULL) {
            fprintf(stderr, "mkmanifest: out of memory reading %s\n", what);
            exit(1);
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap >= MAX_FILE) {
            fprintf(stderr, "mkmanifest: error: %s is larger than %u MiB\n", what, MAX_FILE >> 20);
            exit(1);
        }
        cap *= 2;
        buf = realloc(buf, cap + 1);
    }
    if (ferror(f)) {
        fprintf(stderr, "mkmanifest: error: reading %s: %s\n", what, strerror(errno));
        exit(1);
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static void *read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "mkmanifest: error: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    void *buf = read_all(f, path, len);
    if (f != stdin)
        fclose(f);
    return buf;
}

/* Run `cue export` on the files; its JSON, or exit. Its messages (with
 * file and line) go straight to our stderr. */
static char *cue_export(const char *prog, char **files, int n, size_t *len)
{
    int fd[2];
    if (pipe(fd) != 0) {
        perror("mkmanifest: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("mkmanifest: fork");
        exit(1);
    }
    if (pid == 0) {
        char **argv = calloc((size_t)n + 8, sizeof(*argv));
        int a = 0;
        argv[a++] = (char *)prog;
        argv[a++] = "export";
        argv[a++] = "--out";
        argv[a++] = "json";
        argv[a++] = "-e";
        argv[a++] = "manifest";
        for (int i = 0; i < n; i++)
            argv[a++] = files[i];
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execvp(prog, argv);
        fprintf(stderr, "mkmanifest: error: cannot run %s: %s (is Node.js installed?)\n", prog,
                strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    char *json = read_all(f, "the output of cue export", len);
    fclose(f);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* Status 1: the program has explained each mistake (tools/cue-manifest.js)
     * or printed CUE's messages (tools/cue.js); nothing to add. */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
        exit(1);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "mkmanifest: error: %s failed (%s %d) before evaluating the system\n", prog,
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        exit(1);
    }
    return json;
}

/* The name of element i of list key in obj, or NULL. */
static const char *element_name(const struct jval *obj, const char *key, unsigned long i,
                                const struct jval **elem)
{
    const struct jval *l = obj ? json_get(obj, key) : NULL;
    *elem = l && l->type == J_ARR && i < l->n ? l->items[i] : NULL;
    const struct jval *n = *elem && (*elem)->type == J_OBJ ? json_get(*elem, "name") : NULL;
    return n && n->type == J_STR ? n->s : NULL;
}

/* A lib/manifest path ("initConfig.services[2].caps[0].source") in the
 * terms of the system file: 'service "chat", cap "log": source'. Without
 * the JSON (--check), or past what it names, the path stays as it is. */
static void name_path(const char *path, const struct jval *root, char *out, size_t size)
{
    const struct jval *ic = root ? json_get(root, "initConfig") : NULL, *cur = NULL, *elem;
    const char *p = path, *name;
    unsigned long i;
    int used = 0, len = 0;
    out[0] = 0;
    if (strncmp(p, "initConfig.init", 15) == 0 && (p[15] == 0 || p[15] == '.') && ic) {
        used = snprintf(out, size, "init");
        cur = json_get(ic, "init");
        p += 15;
    } else if (sscanf(p, "initConfig.services[%lu]%n", &i, &len) == 1 &&
               (name = element_name(ic, "services", i, &elem)) != NULL) {
        used = snprintf(out, size, "service \"%s\"", name);
        cur = elem;
        p += len;
    }
    if (cur != NULL) {
        const char *lists[] = {"caps", "exports"}, *what[] = {"cap", "export"};
        for (int k = 0; k < 2; k++) {
            char pat[32];
            snprintf(pat, sizeof(pat), ".%s[%%lu]%%n", lists[k]);
            len = 0;
            if (sscanf(p, pat, &i, &len) == 1 && len > 0 &&
                (name = element_name(cur, lists[k], i, &elem)) != NULL) {
                used += snprintf(out + used, size - (size_t)used, ", %s \"%s\"", what[k], name);
                p += len;
                break;
            }
        }
    }
    if (used == 0 || (size_t)used >= size)
        snprintf(out, size, "%s", path);
    else if (*p == '.')
        snprintf(out + used, size - (size_t)used, ": %s", p + 1);
}

/* Report a lib/manifest error in the terms of the CUE files, which call
 * the interface id field "interface" and name services and caps. */
static void report(const char *what, const struct manifest_error *e, const struct jval *root)
{
    char path[MANIFEST_PATH_MAX], named[2 * MANIFEST_PATH_MAX + 128];
    snprintf(path, sizeof(path), "%s", e->path);
    size_t n = strlen(path), k = strlen(".interfaceId");
    if (n >= k && strcmp(path + n - k, ".interfaceId") == 0)
        path[n - 2] = 0;
    name_path(path, root, named, sizeof(named));
    fprintf(stderr, "mkmanifest: error: %s%s%s\n", named[0] ? named : what, ": ", e->msg);
}

static int check_file(const char *path)
{
    size_t len;
    uint8_t *buf = read_file(path, &len);
    struct manifest m;
    struct manifest_error e;
    int rc = manifest_open(&m, buf, len, &e) == 0 ? manifest_check(&m, &e) : -1;
    if (rc != 0) {
        report(path, &e, NULL);
    } else {
        InitConfig_r ic = SystemManifest_get_initConfig(m.root);
        printf("%s: a valid manifest: %u binaries, init %s, %u services, %zu bytes\n", path,
               List_Binary_len(SystemManifest_get_binaries(m.root)),
               Init_get_binary(InitConfig_get_init(ic)).str,
               List_Service_len(InitConfig_get_services(ic)), len);
    }
    free(buf);
    return rc == 0 ? 0 : 1;
}

static void write_out(const char *out, const uint8_t *buf, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0 || rename(tmp, out) != 0) {
        fprintf(stderr, "mkmanifest: error: writing %s: %s\n", out, strerror(errno));
        unlink(tmp);
        exit(1);
    }
}

/* The CUE definition of the kernel sources, derived from the schema so
 * that it cannot drift from what the kernel and lib/manifest accept. */
static int print_kernel_sources_cue(void)
{
    printf("// Generated from schema/capos.capnp (enum KernelSource, $C.implements, and\n"
           "// the interfaces) by `make cue-kernel-sources`; do not edit. The\n"
           "// manifest-kernel-sources test fails when it is stale.\n"
           "package capos\n\n"
           "// The objects the kernel creates at boot, and the interface of each.\n"
           "#KernelInterface: {\n");
    for (int i = 0; i < KernelSource_COUNT; i++)
        printf("\t%s: \"%s\"\n", KernelSource_NAMES[i], KernelSource_IFACES[i]->name);
    printf("}\n\n"
           "// The interfaces of the schema, which a grant or an export may name.\n"
           "#Interfaces: [\n");
    for (int i = 0; i < capos_INTERFACE_COUNT; i++)
        printf("\t\"%s\",\n", capos_INTERFACES[i]->name);
    printf("]\n");
    return ferror(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"binary", required_argument, NULL, 'b'},
        {"cue", required_argument, NULL, 'c'},    {"json", required_argument, NULL, 'j'},
        {"check", required_argument, NULL, 'k'},  {"kernel-sources-cue", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *cue = "tools/cue-manifest.js", *json_path = NULL, *check = NULL;
    struct binfile *files = calloc((size_t)argc, sizeof(*files));
    int nfiles = 0, opt;
    while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            out = optarg;
            break;
        case 'b': {
            char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg || eq[1] == 0) {
                fprintf(stderr, "mkmanifest: --binary %s: expected NAME=PATH\n", optarg);
                return 2;
            }
            *eq = 0;
            files[nfiles++] = (struct binfile){optarg, eq + 1, NULL, 0};
            break;
        }
        case 'c':
            cue = optarg;
            break;
        case 'j':
            json_path = optarg;
            break;
        case 'k':
            check = optarg;
            break;
        case 's':
            free(files);
            return print_kernel_sources_cue();
        default:
            usage();
        }
    }
    if (check != NULL) {
        free(files);
        return check_file(check);
    }
    if (out == NULL || (json_path == NULL) == (optind == argc))
        usage();

    size_t json_len, total = 0;
    char *text = json_path ? read_file(json_path, &json_len)
                           : cue_export(cue, argv + optind, argc - optind, &json_len);
    char why[160];
    struct jval *root = json_parse(text, json_len, why, sizeof(why));
    if (root == NULL) {
        fprintf(stderr, "mkmanifest: error: %s: not JSON: %s\n",
                json_path ? json_path : "the output of cue export", why);
        free(text);
        free(files);
        return 1;
    }
    for (int i = 0; i < nfiles; i++) {
        files[i].data = read_file(files[i].path, &files[i].len);
        total += files[i].len;
    }

    /* One segment with room for every ELF file, so the message is simple
     * for the kernel (one segment) and nothing is copied twice. */
    struct capn_hbld *h = capn_hbld_new(((total + 8 * nfiles + (64u << 10)) + 7) & ~(size_t)7);
    size_t len = 0;
    uint8_t *bin = NULL;
    if (convert(root, files, nfiles, &h->b) == 0)
        bin = capn_host_frame(&h->b, &len);
    int rc = 1;
    if (bin != NULL) {
        struct manifest m;
        struct manifest_error e;
        if (manifest_open(&m, bin, len, &e) == 0 && manifest_check(&m, &e) == 0) {
            write_out(out, bin, len);
            rc = 0;
        } else {
            report("the manifest", &e, root);
        }
    }
    free(bin);
    capn_hbld_free(h);
    json_free(root);
    free(text);
    for (int i = 0; i < nfiles; i++)
        free(files[i].data);
    free(files);
    return rc;
}
