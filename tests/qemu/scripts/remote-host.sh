#!/bin/sh
# remote-host.sh PORT SERIAL_LOG: the host side of tests/qemu/remote.test.
# The official C++ client (build/tools/capos-remote) and the raw-socket
# hostile peers (build/tests/rpc-hostile) against the guest's remote
# gateway through QEMU's forwarded 127.0.0.1:PORT. It reads the guest's
# serial log to know when the operator exists and what the console's
# bundles are. Prints "host: ok - ..." or "host: FAIL - ..." per check and
# exits with the number of failures; last, it halts the machine through
# the remote operator's Power.
set -u
port=$1
serial=$2
work=$(dirname "$serial")/remote-host
mkdir -p "$work"
REMOTE="build/tools/capos-remote"
export CAPOS_PASSWORD="correct horse"
fails=0
check() { # check STATUS DESCRIPTION
    if [ "$1" -eq 0 ]; then
        echo "host: ok - $2"
    else
        echo "host: FAIL - $2"
        fails=$((fails + 1))
    fi
}
remote() { # remote OUTFILE ARGS...: the client, stdout and stderr to OUTFILE
    out=$1; shift
    timeout 120 "$REMOTE" --port "$port" --timeout 60 "$@" >"$out" 2>&1
}
has() { grep -q -- "$2" "$1"; }
# Wait until the serial log has a line with $1 (at most $2 seconds).
await() {
    i=0
    while ! grep -q -- "$1" "$serial" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $(($2 * 10)) ] && return 1
        sleep 0.1
    done
}
# The names of `caps` output, space-separated.
names() { awk '/^[a-z]+ +[A-Za-z]+ \(0x[0-9a-f]+\)$/ {print $1}' "$1" | tr '\n' ' ' | sed 's/ $//'; }
# The statistics line of the gateway's connection N, once it closed.
conn_stats() {
    await "remote-gateway: conn $1 from .* closed" 30 && grep -a "remote-gateway: conn $1 from .* closed" "$serial" | head -1
}

if ! await "remote-test: console bundle (guest):" 200 || ! await "remote-gateway: listening" 10; then
    echo "host: FAIL - the guest's gateway or console side did not come up"
    exit 1
fi
op_bundle=$(grep -a "remote-test: console bundle (operator):" "$serial" | head -1 | sed 's/.*(operator): //' | tr -d '\r')
guest_bundle=$(grep -a "remote-test: console bundle (guest):" "$serial" | head -1 | sed 's/.*(guest): //' | tr -d '\r')

# 0. A connection that never sends anything, held from here on: the
# gateway aborts it after its idle limit (60 s), while the steps below run.
python3 - "$port" >"$work/idle.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(200)
start, data = time.time(), b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
text = "".join(c for c in data.decode("ascii", "replace") if c.isprintable())
print("idle connection ended after %.0f s: %s" % (time.time() - start, text))
PY
idler=$!

# 1. Login (pipelined with capSet and whoami): the console's bundle.
remote "$work/caps.out" login ops -c caps
got=$(names "$work/caps.out")
[ "$got" = "$op_bundle" ] && has "$work/caps.out" "^logged in: ops, 5 capabilities"
check $? "login ops: caps equals the console's operator bundle ($got)"
stats=$(conn_stats 1)
echo "$stats" | grep -q " pipelined=3 " && echo "$stats" | grep -q " dependent=0 "
check $? "login, capSet and whoami in one round trip: $(echo "$stats" | sed 's/.*closed ([^)]*): //')"

# 2. A guest.
remote "$work/guest.out" guest -c caps -c whoami
got=$(names "$work/guest.out")
[ "$got" = "$guest_bundle" ] && has "$work/guest.out" "^guest (guest)"
check $? "guest: caps equals the console's guest bundle ($got)"

# 3. Calls, and a chat message that reaches the console's chat client.
remote "$work/calls.out" login ops -c "call info.motd" -c "call info.uptime" -c "call info.cpuTime" \
    -c 'call chat.post "hello from afar"' -c "call chat.recent 4"
has "$work/calls.out" '(text = "Welcome to capOS' && has "$work/calls.out" "(ns = [0-9]*)" &&
    has "$work/calls.out" "(cycles = [1-9][0-9]*, idleCycles = [0-9]*, cpus = 1)" &&
    has "$work/calls.out" "(seq = [0-9]*)" && has "$work/calls.out" 'ops: hello from afar'
check $? "info.motd, info.uptime, info.cpuTime, chat.post and chat.recent answer through the gateway"
await "remote-test: the console's chat client read" 60
check $? "the message posted remotely reached the console's chat client"

# 4. A wrong password: refused, delayed (more the second time), audited.
t0=$(date +%s%N)
CAPOS_PASSWORD=nope remote "$work/bad1.out" login ops -c caps; rc1=$?
t1=$(date +%s%N)
CAPOS_PASSWORD=nope remote "$work/bad2.out" login ops -c caps; rc2=$?
t2=$(date +%s%N)
ms1=$(((t1 - t0) / 1000000)); ms2=$(((t2 - t1) / 1000000))
[ $rc1 -eq 1 ] && [ $rc2 -eq 1 ] && has "$work/bad1.out" "wrong user name or password"
check $? "a wrong password is refused: $(head -1 "$work/bad1.out")"
[ $ms1 -ge 200 ] && [ $ms2 -ge 400 ]
check $? "and throttled: answered after ${ms1} ms, then ${ms2} ms (at least 200, 400)"

# 5. Logout: what the session held answers disconnected.
remote "$work/logout.out" login ops -c "call info.motd" -c logout -c "call info.motd" \
    -c "call chat.recent 1"
[ "$(grep -c "disconnected: the session was logged out" "$work/logout.out")" = 2 ] &&
    has "$work/logout.out" "Welcome to capOS"
check $? "after logout, info and chat answer disconnected"

# 6. A dropped connection (the client killed: no Release, no logout)
# logs its session out.
before=$(grep -ac "logged out (the connection closed)" "$serial")
logins=$(grep -ac "ops logged in (operator)" "$serial")
# Its stdin is a FIFO this script holds open, so it waits for commands.
rm -f "$work/stdin"; mkfifo "$work/stdin"
exec 3<>"$work/stdin"
"$REMOTE" --port "$port" --timeout 60 login ops <"$work/stdin" >"$work/cut.out" 2>&1 &
client=$!
i=0
while [ "$(grep -ac "ops logged in (operator)" "$serial")" -le "$logins" ] && [ $i -lt 600 ]; do
    sleep 0.1; i=$((i + 1))
done
kill -KILL "$client"
wait "$client" 2>/dev/null
exec 3>&-
i=0
while [ "$(grep -ac "logged out (the connection closed)" "$serial")" -le "$before" ] && [ $i -lt 300 ]; do
    sleep 0.1; i=$((i + 1))
done
cut=$(grep -a "remote-gateway: conn [0-9]* from .* closed" "$serial" | tail -1)
[ "$(grep -ac "logged out (the connection closed)" "$serial")" -gt "$before" ] &&
    echo "$cut" | grep -q "closed (the \(peer closed the connection\|connection was lost\))"
check $? "a dropped connection (client killed) logs its session out: $(echo "$cut" | grep -o 'closed ([^)]*)')"

# 7. The audit log, read remotely: failures and logins with the remote
# origin, and logouts with the capabilities revoked.
remote "$work/audit.out" login ops -c "call audit.read from=0 max=32"
has "$work/audit.out" 'loginFailed, principal = "ops", detail = "failure 1 in a row; answered after 200 ms; remote 10.0.2.2:[0-9]*"' &&
    has "$work/audit.out" 'loginOk, principal = "ops", detail = "operator session; remote 10.0.2.2:[0-9]*"' &&
    has "$work/audit.out" 'kind = logout, principal = "ops", detail = "operator session; [0-9]* capabilities revoked'
check $? "the audit log says remote 10.0.2.2:PORT for logins and failures, and records the logouts"

# 8. Hostile peers; after each, another connection logs in (as a guest).
HOSTILE_GUEST=1 timeout 400 build/tests/rpc-hostile "$port" >"$work/hostile.tap" 2>&1
while IFS= read -r line; do
    case "$line" in
    "ok "*) check 0 "hostile: ${line#ok [0-9]* - }" ;;
    "not ok "*) check 1 "hostile: ${line#not ok [0-9]* - }" ;;
    esac
done <"$work/hostile.tap"
grep -q "^1\.\.30$" "$work/hostile.tap"
check $? "rpc-hostile ran its 30 checks"
# Its peer that never read was closed for that, and the log says so; the
# answers of its calls that the kernel refused (ring calls) waited while
# its queue was full (parked, in its statistics).
grep -aq "remote-gateway: conn [0-9]* from .* read [0-9]* bytes of its answers in 10 s" "$serial"
check $? "the gateway closed the peer that read nothing: $(grep -ao 'read [0-9]* bytes of its answers in 10 s ([^)]*)' "$serial" | head -1)"
slow=$(grep -a "closed (the peer read [0-9]* bytes of its answers in 10 s" "$serial" | head -1)
echo "$slow" | grep -q " parked=[1-9]"
check $? "answers for the stalled peer waited for room: $(echo "$slow" | grep -o 'queue_peak=.*')"

# 9. A message over 64 KiB from the official client; a connection open at
# the same time keeps working.
big=$(head -c 70000 /dev/zero | tr '\0' x)
(sleep 5; echo "call info.motd") | timeout 120 "$REMOTE" --port "$port" --timeout 60 login ops \
    >"$work/other.out" 2>&1 &
other=$!
remote "$work/big.out" login ops -c "call chat.post $big"
wait $other
has "$work/big.out" "the limit is 65536"
check $? "a 70,000-byte chat.post is refused: $(grep -o 'message of [0-9]* bytes; the limit is 65536' "$work/big.out" | head -1)"
has "$work/other.out" "Welcome to capOS"
check $? "a connection open at the same time keeps working"

wait "$idler"
has "$work/idle.out" "idle for 60 s; the limit is 60 s"
check $? "a silent connection is aborted: $(cat "$work/idle.out")"

# 10. The connection limit: four held open, a fifth gets an Abort that
# says why, and once they close a new one is served.
python3 - "$port" >"$work/limit.out" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
time.sleep(3)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(60)
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print("fifth:", data.decode("ascii", "replace").replace("\0", ""))
for h in held:
    h.close()
PY
has "$work/limit.out" "too many connections; the limit is 4"
check $? "a fifth connection is refused: too many connections; the limit is 4"
sleep 2
remote "$work/after.out" guest -c whoami
has "$work/after.out" "logged in"
check $? "after they close, a new connection is served"

# 11. The round trip, for docs/benchmarks.md.
remote "$work/bench.out" login ops -c "bench info.uptime 200"
grep -q "^200 calls of info.uptime in .* calls/s" "$work/bench.out"
check $? "bench info.uptime 200 through the gateway: $(grep -o '[0-9]* calls/s.*' "$work/bench.out")"

# Last: the remote operator halts the machine.
remote "$work/shutdown.out" login ops -c "call power.shutdown"
echo "host: $fails failures"
exit "$fails"
