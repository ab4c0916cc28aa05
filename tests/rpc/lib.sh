# Shared by the gateway suites: start rpc-gateway on a free loopback port
# and stop it. Every command runs under `timeout`, so nothing hangs.
#   gw_start LOG [OPTIONS...]   sets GW_PORT and GW_PID
#   gw_stop                     stops it; its exit status ($GW_RC) says
#                               whether every reference was given back
GATEWAY=${GATEWAY:-build/tests/rpc-gateway}

gw_start() {
    log=$1; shift
    pf=$(mktemp -u)
    # The gateway checks its own references at exit; LeakSanitizer's exit
    # scan (which stops the process with a ptrace helper) is not needed,
    # and under load it has been seen to hang.
    ASAN_OPTIONS=detect_leaks=0 timeout 120 "$GATEWAY" --port-file "$pf" --lifetime 100 "$@" \
        >"$log" 2>&1 &
    GW_PID=$!
    i=0
    while [ ! -s "$pf" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    GW_PORT=$(cat "$pf" 2>/dev/null)
    rm -f "$pf"
    if [ -z "$GW_PORT" ]; then
        echo "not ok - the gateway did not start (see $log)"
        cat "$log" >&2
        exit 1
    fi
}

gw_stop() {
    kill -TERM "$GW_PID" 2>/dev/null
    # A gateway that does not stop within 10 s is killed (and fails the
    # reference check that reads its last line).
    (sleep 10 && kill -KILL "$GW_PID") >/dev/null 2>&1 &
    watchdog=$!
    wait "$GW_PID"
    GW_RC=$?
    kill "$watchdog" 2>/dev/null
}

n=0
fails=0
tap() { # tap STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        fails=$((fails + 1))
    fi
}
