#!/bin/sh
# client.sh WORKDIR: the official Cap'n Proto C++ client (capos-remote)
# against the gateway harness: login, bundles, calls, pipelining counted in
# the gateway's statistics, logout and disconnection, limits. TAP.
set -u
. tests/rpc/lib.sh
work=$1
mkdir -p "$work"
REMOTE=build/tools/capos-remote
export CAPOS_PASSWORD=wonderland
log="$work/gateway.log"
gw_start "$log"

remote() { # remote OUTFILE ARGS... : run the client, stdout+stderr to OUTFILE
    out=$1; shift
    timeout 20 "$REMOTE" --port "$GW_PORT" --timeout 10 "$@" >"$out" 2>&1
}
has() { grep -q -- "$2" "$1"; }
# The statistics line of connection N once it has closed.
stats() {
    i=0
    while ! grep -q "^conn $1 closed" "$log" && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
    grep "^conn $1 closed" "$log"
}
stat() { stats "$1" | grep -o " $2=[0-9]*" | cut -d= -f2; }
conn=0

# 1. An operator's bundle, pipelined login.
remote "$work/caps.out" login alice -c caps; rc=$?; conn=$((conn + 1))
has "$work/caps.out" "^info *SystemInfo (0xf6910c8a16c6a137)" &&
    has "$work/caps.out" "^chat *Chat (0xc0b51d6646cedbba)" && [ $rc -eq 0 ]
tap $? "login alice: caps lists info (SystemInfo) and chat (Chat)"
[ "$(stat $conn dependent)" = 0 ] && [ "$(stat $conn pipelined)" = 3 ]
tap $? "login, capSet and whoami pipelined: one round trip ($(stats $conn | cut -d: -f2))"
[ "$(stat $conn exports_left)" = 0 ]
tap $? "every export released when the client disconnected"
grep -q "audit: loginOk alice remote 127.0.0.1:" "$log"
tap $? "the login is audited with the peer address"

# 2. Without pipelining the same login costs a second round trip: the
# statistic can fail.
remote "$work/nopipe.out" --no-pipeline login alice -c caps; conn=$((conn + 1))
[ "$(stat $conn dependent)" = 2 ] && has "$work/nopipe.out" "^chat"
tap $? "without pipelining capSet and whoami wait for login: dependent=$(stat $conn dependent)"

# 3. A guest's bundle.
remote "$work/guest.out" guest -c caps -c whoami; conn=$((conn + 1))
has "$work/guest.out" "^info" && ! has "$work/guest.out" "^chat" &&
    has "$work/guest.out" "^guest (guest)"
tap $? "guest: info only, whoami says guest"

# 4. Calls; a chat message posted remotely reaches another client.
remote "$work/calls.out" login alice -c "call info.motd" -c "call info.uptime" \
    -c 'call chat.post "hello from afar"'; conn=$((conn + 1))
has "$work/calls.out" '(text = "Welcome to capOS (remote gateway harness)")' &&
    has "$work/calls.out" "(ns = [0-9]*)" && has "$work/calls.out" "(seq = [0-9]*)"
tap $? "call info.motd, info.uptime and chat.post answer"
remote "$work/read.out" login alice -c "call chat.recent 16"; conn=$((conn + 1))
has "$work/read.out" '"alice: hello from afar"'
tap $? "another connection reads the posted message with chat.recent"

# 4b. The round-trip benchmark: 500 calls, each a round trip of its own.
remote "$work/bench.out" login alice -c "bench info.uptime 500"; conn=$((conn + 1))
grep -q "^500 calls of info.uptime in .* calls/s" "$work/bench.out" && [ "$(stat $conn calls)" = 503 ]
tap $? "bench info.uptime 500: $(grep -o '[0-9]* calls/s.*' "$work/bench.out") (gateway calls=$(stat $conn calls))"

# 5. Errors a user can make.
remote "$work/err.out" login alice -c "call info.nope" -c "call chat.recent x" \
    -c "call nothing.motd" -c "bogus"; rc=$?; conn=$((conn + 1))
has "$work/err.out" "no method nope; the methods are: motd() guestEnabled() uptime() memory()" &&
    has "$work/err.out" "max is an unsigned integer, not x" &&
    has "$work/err.out" "no capability named nothing" && has "$work/err.out" "unknown command: bogus" &&
    [ $rc -eq 1 ]
tap $? "unknown methods, bad arguments and unknown names are refused with a message"

# 6. A wrong password: refused, delayed, audited; the next one waits longer.
start=$(date +%s%N)
CAPOS_PASSWORD=nope remote "$work/bad.out" login alice -c caps; rc=$?; conn=$((conn + 1))
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 1 ] && has "$work/bad.out" "login failed: remote exception: permission denied: wrong user or password"
tap $? "a wrong password is refused: $(head -1 "$work/bad.out")"
[ $ms -ge 100 ]
tap $? "and answered after a delay (${ms} ms, at least 100)"
grep -q "audit: loginFailed alice remote 127.0.0.1:" "$log"
tap $? "and audited"

# 7. Logout: the capabilities answer disconnected; the session is gone.
remote "$work/logout.out" login alice -c "call info.motd" -c logout -c "call info.motd" \
    -c "call chat.recent 1"; conn=$((conn + 1))
[ "$(grep -c "disconnected: the session was logged out" "$work/logout.out")" = 2 ]
tap $? "after logout info and chat answer disconnected"
grep -q "audit: logout alice" "$log"
tap $? "the logout is audited"

# 8. Release: dropping a capability tells the gateway.
remote "$work/release.out" login alice -c "release chat" -c "call info.motd"; conn=$((conn + 1))
[ "$(stat $conn releases)" -ge 1 ] && has "$work/release.out" "released chat"
tap $? "release chat sends Release (releases=$(stat $conn releases))"

# 9. A cut connection logs its session out.
before=$(grep -c "logged out" "$log")
(echo caps; sleep 0.3) | timeout 10 "$REMOTE" --port "$GW_PORT" login alice >"$work/cut.out" 2>&1
conn=$((conn + 1))
stats $conn >/dev/null
[ "$(grep -c "logged out" "$log")" -gt "$before" ] && [ "$(stat $conn exports_left)" = 0 ]
tap $? "a dropped connection logs its session out and keeps no export"

# 10. Interactive mode: commands from stdin.
printf 'caps\nwhoami\ncall info.guestEnabled\nquit\n' |
    timeout 10 "$REMOTE" --port "$GW_PORT" login alice >"$work/inter.out" 2>&1
conn=$((conn + 1))
has "$work/inter.out" "^alice (operator)" && has "$work/inter.out" "(on = true)"
tap $? "interactive mode runs commands from stdin"

# 11. A message over 64 KiB is refused; another connection is unaffected.
big=$(head -c 70000 /dev/zero | tr '\0' x)
(sleep 1; echo "call info.motd") | timeout 10 "$REMOTE" --port "$GW_PORT" login alice \
    >"$work/other.out" 2>&1 &
other=$!
remote "$work/big.out" login alice -c "call chat.post $big" -c "call info.motd"; conn=$((conn + 1))
wait $other
has "$work/big.out" "the limit is 65536"
tap $? "a 70,000-byte chat.post is refused: $(grep -o 'message of [0-9]* bytes; the limit is 65536' "$work/big.out" | head -1)"
has "$work/other.out" "Welcome to capOS"
tap $? "a connection open at the same time keeps working"
gw_stop
grep -q "exit: 0 objects still referenced" "$log"
tap $? "the gateway ended with every reference given back (exit status $GW_RC)"

# 12. Connection limit and idle time, each on a gateway of its own.
log="$work/gateway-limits.log"
gw_start "$log" --max-conns 1
(sleep 1.5; echo "call info.motd") | timeout 10 "$REMOTE" --port "$GW_PORT" login alice \
    >"$work/first.out" 2>&1 &
first=$!
sleep 0.5
remote "$work/second.out" login alice -c caps; rc=$?
wait $first
[ $rc -eq 1 ] && has "$work/second.out" "too many connections; the limit is 1"
tap $? "a second connection over the limit of 1 is refused"
has "$work/first.out" "Welcome to capOS"
tap $? "the first connection keeps working"
gw_stop
log="$work/gateway-idle.log"
gw_start "$log" --idle 1
(sleep 2.5; echo "call info.motd") | timeout 10 "$REMOTE" --port "$GW_PORT" login alice \
    >"$work/idle.out" 2>&1
has "$work/idle.out" "idle for 1 s; the limit is 1 s"
tap $? "an idle connection is aborted: $(grep -o 'idle for.*' "$work/idle.out" | head -1)"
gw_stop

# 13. A slow login: the pipelined capSet and whoami wait in the gateway for
# its answer, then go to the session it returned.
log="$work/gateway-slow.log"
gw_start "$log" --login-delay 300
remote "$work/slow.out" login alice -c caps
has "$work/slow.out" "^chat" && [ "$(stat 1 deferred)" = 2 ] && [ "$(stat 1 dependent)" = 0 ]
tap $? "a slow login: capSet and whoami waited for it (deferred=$(stat 1 deferred))"
gw_stop

# 14. The official library beyond the client: capabilities in params, a
# cancelled call, 100 calls in flight (tests/rpc/interop.c++).
log="$work/gateway-interop.log"
gw_start "$log" --login-delay 100
timeout 60 build/tests/rpc-interop "$GW_PORT" >"$work/interop.tap" 2>&1
while read -r line; do
    case "$line" in
    "ok "*) tap 0 "interop: ${line#ok [0-9]* - }" ;;
    "not ok "*) tap 1 "interop: ${line#not ok [0-9]* - }" ;;
    esac
done <"$work/interop.tap"
grep -q "^1\.\.5$" "$work/interop.tap"
tap $? "interop ran its 5 tests"
grep -q " canceled=1 " "$log"
tap $? "the gateway answered the cancelled login as canceled"
gw_stop
grep -q "exit: 0 objects still referenced" "$log"
tap $? "and ended with every reference given back"
echo "1..$n"
