#!/bin/sh
# Upstream failures are relayed as the agent would see them and stored
# with their outcome: refused, TLS, a silent upstream, a connect timeout,
# 429 retries, a reset midway, and an agent that disconnects. Replay
# serves the same failures. A DNS failure is tested in a network
# namespace that has only loopback.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

# A loopback port that nothing listens on.
closed_port=$("$PYTHON" -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

start_upstream
https=$(echo "$UPSTREAM" | sed 's/^http:/https:/')
start_gateway rec --upstream test="$UPSTREAM" \
	--upstream refused="http://127.0.0.1:$closed_port" \
	--upstream tls="$https" --idle-timeout 1000
REC=$GATEWAY REC_PID=$GATEWAY_PID

# 1: connection refused gets a 502 that names the failure.
code=$(curl -sS -o "$TMP/refused.json" -w '%{http_code}' \
	"$REC/refused/v1/models")
expect_eq 502 "$code" "status for a refused connection"
expect_grep '"code":"upstream_connection_refused"' "$TMP/refused.json"
expect_grep '"upstream":"refused"' "$TMP/refused.json"

# 2: a TLS handshake with a plain HTTP server fails.
code=$(curl -sS -o "$TMP/tls.json" -w '%{http_code}' "$REC/tls/v1/models")
expect_eq 502 "$code" "status for a TLS failure"
expect_grep '"code":"upstream_tls_failed"' "$TMP/tls.json"

# 3: an upstream that never responds times out.
code=$(curl -sS -o "$TMP/hang.json" -w '%{http_code}' "$REC/hang")
expect_eq 502 "$code" "status for a silent upstream"
expect_grep '"code":"upstream_timed_out"' "$TMP/hang.json"

# 4, 5, 6: an agent that retries after 429 makes one exchange per try.
for i in 1 2; do
	curl -sS -D "$TMP/429.$i" -o /dev/null \
		"$REC/status?code=429&retry_after=7"
	grep -qi '^retry-after: 7' "$TMP/429.$i" ||
		fail "try $i: Retry-After was not relayed"
done
code=$(curl -sS -o /dev/null -w '%{http_code}' "$REC/status?code=503")
expect_eq 503 "$code" "relayed 503"

# 7, 8: resets in the middle of a body, framed by length and chunked.
for mode in length chunked; do
	set +e
	curl -sS "$REC/cut?mode=$mode" -o "$TMP/cut.$mode" 2>/dev/null
	got=$?
	set -e
	[ "$got" -ne 0 ] || fail "cut $mode: the agent saw a complete body"
	expect_grep 'partial' "$TMP/cut.$mode"
done

# 9: an agent that disconnects mid-stream cancels the upstream transfer.
set +e
curl -sS -N -m 0.5 "$REC/slow?events=100&delay_ms=20" -o /dev/null \
	2>/dev/null
set -e
i=0
until curl -sS "$UPSTREAM/stats" | grep -q '"aborted": 1'; do
	i=$((i + 1))
	[ "$i" -le 100 ] || fail "the upstream transfer was not cancelled"
	sleep 0.05
done

# 10, 11, 12: the request's head and the response's share the
# connection's memory. A response head of 60,000 bytes beside a small
# request is relayed. One of 70,000, and one of 25,000 beside a request
# head of 40,000, get a 502 that names both sizes, where the memory
# would have cut them.
code=$(curl -sS -o /dev/null -w '%{http_code}' "$REC/big_header?bytes=60000")
expect_eq 200 "$code" "status for a head of 60,000 bytes"
code=$(curl -sS -o "$TMP/big.json" -w '%{http_code}' \
	"$REC/big_header?bytes=70000")
expect_eq 502 "$code" "status for a head of 70,000 bytes"
expect_grep '"code":"upstream_header_too_large"' "$TMP/big.json"
expect_grep '"head_bytes":70' "$TMP/big.json"
pad=$(head -c 40000 /dev/zero | tr '\0' p)
code=$(curl -sS -o "$TMP/both.json" -w '%{http_code}' -H "X-Pad: $pad" \
	"$REC/big_header?bytes=25000")
expect_eq 502 "$code" "status for heads of 40,000 and 25,000 bytes"
expect_grep '"request_head_bytes":40' "$TMP/both.json"

# 13: one header line of 100 KiB or more, which libcurl does not read,
# gets the same code, with the limit, not a generic failure.
code=$(curl -sS -o "$TMP/line.json" -w '%{http_code}' \
	"$REC/big_header?bytes=200000&line=200000")
expect_eq 502 "$code" "status for a header line of 200,000 bytes"
expect_grep '"code":"upstream_header_too_large"' "$TMP/line.json"
expect_grep '"line_limit_bytes":102400' "$TMP/line.json"

# 14: so does a head of more than the 300 KiB that libcurl reads in
# all, in short lines.
code=$(curl -sS -o "$TMP/head.json" -w '%{http_code}' \
	"$REC/big_header?bytes=320000&line=4000")
expect_eq 502 "$code" "status for a head of 320,000 bytes"
expect_grep '"code":"upstream_header_too_large"' "$TMP/head.json"
expect_grep '"head_limit_bytes":307200' "$TMP/head.json"
stop_gateway "$REC_PID"

f=$TMP/rec.jsonl
expect_eq 1,2,3,4,5,6,7,8,9,10,11,12,13,14 "$($RECORDS seqs "$f")" \
	"exchange order"
expect_eq complete "$($RECORDS field "$f" 10 outcome)" "head of 60,000"
expect_eq upstream-failed "$($RECORDS field "$f" 11 outcome)" \
	"head of 70,000"
expect_eq 502 "$($RECORDS field "$f" 11 response.status)" \
	"stored 502 for a head of 70,000"
expect_eq upstream-failed "$($RECORDS field "$f" 12 outcome)" \
	"heads of 40,000 and 25,000"
expect_eq upstream-failed "$($RECORDS field "$f" 13 outcome)" \
	"header line of 200,000"
expect_eq 502 "$($RECORDS field "$f" 13 response.status)" \
	"stored 502 for a header line of 200,000"
expect_eq upstream-failed "$($RECORDS field "$f" 1 outcome)" "refused"
expect_eq upstream-failed "$($RECORDS field "$f" 2 outcome)" "tls"
expect_eq upstream-failed "$($RECORDS field "$f" 3 outcome)" "timeout"
expect_eq 502 "$($RECORDS field "$f" 1 response.status)" "stored 502"
for seq in 4 5; do
	expect_eq complete "$($RECORDS field "$f" $seq outcome)" "429 outcome"
	expect_eq 429 "$($RECORDS field "$f" $seq response.status)" \
		"429 try $seq"
	expect_eq 7 "$($RECORDS header "$f" $seq response Retry-After)" \
		"stored Retry-After"
done
expect_eq upstream-cut "$($RECORDS field "$f" 7 outcome)" "cut by length"
expect_eq upstream-cut "$($RECORDS field "$f" 8 outcome)" "cut chunked"
$RECORDS field "$f" 7 failure | grep -q 'reset' ||
	fail "the cut exchange does not say the connection was reset"
expect_eq client-aborted "$($RECORDS field "$f" 9 outcome)" "disconnect"

# A connect that never completes: a loopback listener whose accept
# queue is full drops further SYNs, so the connect timeout ends it.
"$PYTHON" - "$TMP/full.port" <<'PY' &
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
held = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(s.getsockname())
    except BlockingIOError:
        pass
    held.append(c)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
PY
SERVER_PIDS="$SERVER_PIDS $!"
full=$(wait_port "$TMP/full.port")
start_gateway connect --upstream full="http://127.0.0.1:$full" \
	--connect-timeout 500
code=$(curl -sS -o "$TMP/connect.json" -w '%{http_code}' "$GATEWAY/x")
stop_gateway "$GATEWAY_PID"
expect_eq 502 "$code" "status for a connect timeout"
expect_grep '"code":"upstream_timed_out"' "$TMP/connect.json"
expect_eq upstream-failed "$($RECORDS field "$TMP/connect.jsonl" 1 outcome)" \
	"connect timeout outcome"

# Replay serves the same failures without any upstream.
stop_servers
start_gateway replay --replay "$f" --timing fast
code=$(curl -sS -o "$TMP/replay.json" -w '%{http_code}' \
	"$GATEWAY/refused/v1/models")
expect_eq 502 "$code" "replayed refusal"
cmp "$TMP/refused.json" "$TMP/replay.json" || fail "replayed 502 differs"
curl -sS -o /dev/null "$GATEWAY/tls/v1/models"
curl -sS -o /dev/null "$GATEWAY/hang"
for i in 1 2; do
	curl -sS -D "$TMP/r429.$i" -o /dev/null \
		"$GATEWAY/status?code=429&retry_after=7"
	grep -qi '^retry-after: 7' "$TMP/r429.$i" ||
		fail "replayed try $i lost Retry-After"
done
set +e
curl -sS "$GATEWAY/cut?mode=length" -o "$TMP/rcut" 2>/dev/null
got=$?
set -e
[ "$got" -ne 0 ] || fail "the replayed cut body arrived complete"
cmp "$TMP/cut.length" "$TMP/rcut" || fail "the replayed cut body differs"
stop_gateway "$GATEWAY_PID"

# A host name that does not resolve gets a 502 that names the DNS
# failure. The gateway and its client run in a new network namespace
# with only loopback, where the query to the resolver of resolv.conf
# fails with ENETUNREACH before anything is sent. A lookup through nscd
# or another resolver daemon would go through its socket to the host's
# network, so the case is skipped where such a daemon may run.
hosts_dns='^hosts:[[:space:]]+files[[:space:]]+dns[[:space:]]*$'
dns_isolated() {
	[ ! -e /var/run/nscd/socket ] && [ ! -e /run/nscd/socket ] &&
		grep -Eq "$hosts_dns" /etc/nsswitch.conf &&
		command -v ip >/dev/null && unshare -rn true 2>/dev/null
}
if dns_isolated; then
	DNS_DIR=$TMP unshare -rn sh -c '
		ip link set lo up || exit 1
		"$RUNBUNDLE" gateway --port-file "$DNS_DIR/dns.port" \
			--upstream dns=http://no-such-host.invalid \
			>"$DNS_DIR/dns.out" 2>"$DNS_DIR/dns.err" &
		pid=$!
		tries=0
		while [ ! -s "$DNS_DIR/dns.port" ] && [ "$tries" -lt 200 ]; do
			sleep 0.05
			tries=$((tries + 1))
		done
		curl -sS -o "$DNS_DIR/dns.json" -w "%{http_code}" \
			"http://127.0.0.1:$(cat "$DNS_DIR/dns.port")/dns/v1" \
			>"$DNS_DIR/dns.code"
		kill -TERM "$pid"
		wait "$pid"
	' || fail "the gateway in a network namespace failed"
	expect_eq 502 "$(cat "$TMP/dns.code")" "status for a DNS failure"
	expect_grep '"code":"upstream_dns_failed"' "$TMP/dns.json"
else
	echo "note: DNS failure not tested: a lookup could leave the machine"
fi
