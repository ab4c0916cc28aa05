#!/bin/sh
# hostile.sh WORKDIR: raw-socket hostile peers (rpc-hostile) against the
# gateway harness, then the gateway's own check that every reference went
# back. TAP on stdout.
set -u
. tests/rpc/lib.sh
work=$1
mkdir -p "$work"
gw_start "$work/gateway.log"
timeout 100 build/tests/rpc-hostile "$GW_PORT" | grep -v '^1\.\.' | sed 's/^\(\(not \)\{0,1\}ok\) [0-9]*/\1/' >"$work/hostile.tap"
while read -r line; do
    case "$line" in
    "ok - "*) tap 0 "${line#ok - }" ;;
    "not ok - "*) tap 1 "${line#not ok - }" ;;
    esac
done <"$work/hostile.tap"
[ -s "$work/hostile.tap" ]
tap $? "rpc-hostile reported its tests"
gw_stop
grep -q "read [0-9]* bytes of its answers in 10 s" "$work/gateway.log"
tap $? "the gateway's log says why it closed the peer that did not read"
grep -q "exit: 0 objects still referenced" "$work/gateway.log"
tap $? "the gateway ended with every reference given back (exit status $GW_RC)"
echo "1..$n"
