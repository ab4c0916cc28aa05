#!/bin/sh
# run.sh INTEROP_BINARY [SIZE] [TIMEOUT_S] ["DROP% DUP% REORDER%"]
# TAP: lib/net (tests/net-interop/interop.c on a TAP device) against the
# Linux kernel's TCP, in a network namespace created here and deleted on
# exit; the only addresses are 10.99.0.1 (Linux) and 10.99.0.2 (lib/net).
# NET_INTEROP_SEED (default 0x5eed) seeds the impairment's PRNG.
# Skips only when network namespaces cannot be created. Every process runs
# under timeout(1), so a stuck transfer fails instead of hanging.
set -u
bin=$1; size=${2:-20971520}; limit=${3:-150}; impair=${4:-5 2 5}
seed=${NET_INTEROP_SEED:-0x5eed}
dir=$(dirname "$0")
ns="capos-interop-$$"
n=0
tap() { # tap STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
if [ "$(id -u)" -ne 0 ] || ! ip netns add "$ns" 2>/dev/null; then
    echo "ok 1 - net-interop # SKIP network namespaces unavailable"
    exit 0
fi
out=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "$out"
}
trap cleanup EXIT INT TERM
x() { ip netns exec "$ns" "$@"; }
x ip link set lo up
x sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
x sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
x ip tuntap add dev captap0 mode tap &&
    x ip addr add 10.99.0.1/24 dev captap0 &&
    x ip link set captap0 up
tap $? "namespace $ns with captap0 at 10.99.0.1/24"

x timeout "$limit" python3 "$dir/linux_peer.py" server "$size" "$limit" >"$out/server" 2>&1 &
ps=$!
# The harness's own deadline comes first, so it can still report.
# shellcheck disable=SC2086
x timeout "$limit" "$bin" captap0 "$size" "$seed" $((limit - 10)) $impair >"$out/stack" 2>&1 &
pst=$!
x timeout "$limit" python3 "$dir/linux_peer.py" client "$size" "$limit" >"$out/client" 2>&1 &
pc=$!
pids="$ps $pst $pc"
start=$(date +%s)
wait "$pst"; rst=$?
# If the stack gave up, the peers have nobody to talk to.
[ "$rst" -ne 0 ] && kill "$ps" "$pc" 2>/dev/null
wait "$ps"; rs=$?
wait "$pc"; rc=$?
pids=""
echo "# lib/net side finished after $(($(date +%s) - start)) s"
sed 's/^/# stack: /' "$out/stack"
sed 's/^/# linux server: /' "$out/server"
sed 's/^/# linux client: /' "$out/client"
tap "$rst" "lib/net finished both connections cleanly (status $rst)"
tap "$rs" "Linux server: $size bytes each way, SHA-256 as expected, clean close (status $rs)"
tap "$rc" "Linux client: $size bytes each way, SHA-256 as expected, clean close (status $rc)"

field() { # field FILE ROLE KEY N: the Nth KEY= value on ROLE's RESULT line
    grep "^RESULT $2 " "$1" | tr ' ' '\n' | grep "^$3=" | sed -n "${4}p" | cut -d= -f2
}
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }
same "$(field "$out/stack" to-linux-server sha 1)" "$(field "$out/server" server sha 2)"
tap $? "SHA-256: what lib/net sent = what the Linux server received"
same "$(field "$out/server" server sha 1)" "$(field "$out/stack" to-linux-server sha 2)"
tap $? "SHA-256: what the Linux server sent = what lib/net received"
same "$(field "$out/stack" from-linux-client sha 1)" "$(field "$out/client" client sha 2)"
tap $? "SHA-256: what lib/net sent = what the Linux client received"
same "$(field "$out/client" client sha 1)" "$(field "$out/stack" from-linux-client sha 2)"
tap $? "SHA-256: what the Linux client sent = what lib/net received"
grep -q "dropped [1-9]" "$out/stack" && grep -q "reordered [1-9]" "$out/stack"
tap $? "frames were dropped, duplicated and reordered in both directions"
echo "1..$n"
