#!/bin/sh
# gen_corpus.sh: regenerate the seed corpus of the manifest fuzz target
# (tests/fuzz/corpus/manifest). Run from anywhere; the output is
# deterministic. Every seed is encoded by the official compiler (capnp
# encode, Debian's capnproto) from a text literal below: a valid system, the
# same in several segments and with services, and one seed per kind of
# error the checker reports, so the fuzzer starts next to every branch.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../fuzz/corpus/manifest"
schema="$here/../../schema/capos.capnp"
rm -rf "$out"
mkdir -p "$out"

# Interface ids, as in schema/capos.capnp.
console=0xa3b90b046e5043e0
timer=0xa97e1d2f4d232b4a
spawner=0x8d6cd82010f1ac99
boot=0xf9574293bb5ce685
vm=0xef6a3f3474e6c566

elf='0x"7f454c46020101000000000000000000"'
bins="binaries = [(name = \"init\", elf = $elf), (name = \"log-svc\", elf = $elf), (name = \"app\", elf = $elf)]"
k() { # k NAME SOURCE ID: a kernel-sourced grant
    echo "(name = \"$1\", interfaceId = $3, source = (kernel = $2))"
}
s() { # s NAME SERVICE EXPORT ID: a grant of another service's export
    echo "(name = \"$1\", interfaceId = $4, source = (service = (name = \"$2\", export = \"$3\")))"
}
init_caps="[$(k console console $console), $(k timer timer $timer), $(k spawner spawner $spawner), $(k boot bootPackage $boot)]"
log="(name = \"log\", binary = \"log-svc\", caps = [$(k serial console $console)], exports = [(name = \"console\", interfaceId = $console)])"
app="(name = \"app\", binary = \"app\", restart = onFailure, caps = [$(s log log console $console), $(k timer timer $timer)])"

# manifest NAME [ENCODE OPTIONS] -- SERVICES [INIT_CAPS [EXTRA ROOT FIELDS]]
manifest() {
    name=$1; shift
    opts=""
    while [ "$1" != "--" ]; do opts="$opts $1"; shift; done
    shift
    svcs=$1 caps=${2:-$init_caps} extra=${3:-}
    # shellcheck disable=SC2086
    printf '(schemaVersion = 1, %s, initConfig = (init = (binary = "init", caps = %s), services = %s), kernelParams = (motd = "Welcome\\n")%s)\n' \
        "$bins" "$caps" "$svcs" "$extra" | capnp encode $opts "$schema" SystemManifest >"$out/$name"
}

manifest valid.bin -- "[$log, $app]"
manifest many_segments.bin --segment-size=1 -- "[$log, $app]"
manifest valid_seg8.bin --segment-size=8 -- "[$log, $app]"
manifest no_services.bin -- "[]" "[$(k console console $console)]"
manifest dup_service.bin -- "[$log, $app, $log]"
manifest dup_cap.bin -- "[$log, $app]" "[$(k console console $console), $(k console timer $timer)]"
manifest no_export.bin -- "[$log, (name = \"app\", binary = \"app\", caps = [$(s chat chat endpoint $console)])]"
manifest iface_mismatch.bin -- "[$log, (name = \"app\", binary = \"app\", caps = [$(s log log console $timer)])]"
manifest kernel_mismatch.bin -- "[]" "[$(k console timer $console)]"
manifest not_held.bin -- "[$log, (name = \"app\", binary = \"app\", caps = [$(k vm vm $vm)])]"
manifest unknown_binary.bin -- "[$log, (name = \"app\", binary = \"nope\")]"
manifest bad_name.bin -- "[$log, (name = \"a.b\", binary = \"app\")]"
manifest long_name.bin -- "[$log, (name = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", binary = \"app\")]"
x() { # x NAME DEP: service NAME using export ep of DEP
    echo "(name = \"$1\", binary = \"app\", caps = [$(s dep "$2" ep $console)], exports = [(name = \"ep\", interfaceId = $console)])"
}
manifest cycle1.bin -- "[$(x a a)]"
manifest cycle2.bin -- "[$(x a b), $(x b a)]"
manifest cycle3.bin -- "[$(x a b), $(x b c), $(x c a)]"
manifest chain.bin -- "[$(x a b), $(x b c), (name = \"c\", binary = \"app\", exports = [(name = \"ep\", interfaceId = $console)])]"

printf '(schemaVersion = 2)\n' | capnp encode "$schema" SystemManifest >"$out/version.bin"
printf '()\n' | capnp encode "$schema" SystemManifest >"$out/empty.bin"
printf '(schemaVersion = 1, binaries = [(name = "init", elf = %s)], initConfig = (init = (binary = "init")))\n' \
    "$elf" | capnp encode "$schema" SystemManifest >"$out/no_params.bin"
printf '(schemaVersion = 1, binaries = [(name = "init", elf = 0x"23212f62696e2f7368")], initConfig = (init = (binary = "init")), kernelParams = ())\n' \
    | capnp encode "$schema" SystemManifest >"$out/not_elf.bin"
# Truncated: the valid manifest cut in half.
head -c 200 "$out/valid.bin" >"$out/truncated.bin"
