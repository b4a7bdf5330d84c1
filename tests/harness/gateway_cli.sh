#!/bin/sh
# runbundle gateway's command line: usage errors, missing credentials,
# listening on an address, on ::1 and on a socket it is handed, and
# records written one file per exchange into a directory.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

expect_status 2 "$RUNBUNDLE" gateway
expect_grep "^runbundle: missing mode" "$TMP/err"
expect_grep "^usage: runbundle gateway" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --upstream nourl
expect_grep "invalid upstream: 'nourl': expected NAME=URL" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--model-script x.json
expect_grep "conflicting modes" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --model-script x.json --timing slow
expect_grep "invalid --timing: 'slow'" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--auth b=KEY
expect_grep "no --upstream has that name" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --replay x.jsonl \
	--on-divergence forward
expect_grep "needs an --upstream" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--listen nowhere
expect_grep "invalid --listen: 'nowhere'" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--max-request-body -5
expect_grep "invalid --max-request-body: '-5'" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--max-request-body 0
expect_grep "invalid --max-request-body: '0': must be at least 1 byte" \
	"$TMP/err"
expect_grep "^hint: give the limit in bytes" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--agent-timeout 0
expect_grep "invalid timeout: '0': must be at least 1 ms" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--agent-timeout soon
expect_grep "invalid --agent-timeout: 'soon'" "$TMP/err"

# A rule that does not compile is a bad command line in every mode, as in
# replay and diff, and not an error found once a replay file is read.
expect_status 2 "$RUNBUNDLE" gateway --replay x.jsonl --match-rule 'regex:('
expect_grep "^runbundle: invalid --match-rule: .*'('" "$TMP/err"
expect_status 2 timeout 10 "$RUNBUNDLE" gateway \
	--upstream a=http://127.0.0.1:1 --match-rule 'path:messages['
expect_grep "^runbundle: invalid --match-rule: .*'messages\['" "$TMP/err"

unset RB_TEST_MISSING_KEY 2>/dev/null || true
expect_status 3 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--auth a=RB_TEST_MISSING_KEY
expect_grep "missing credential: 'RB_TEST_MISSING_KEY'" "$TMP/err"
expect_grep "^hint: export RB_TEST_MISSING_KEY" "$TMP/err"

# A key too short to mask: the error names the variable, not the key.
RB_TEST_SHORT_KEY=abc
export RB_TEST_SHORT_KEY
expect_status 3 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--auth a=RB_TEST_SHORT_KEY
expect_grep "^runbundle: invalid credential: 'RB_TEST_SHORT_KEY': .*3 \
characters" "$TMP/err"
expect_grep "^hint: export RB_TEST_SHORT_KEY" "$TMP/err"
expect_status 3 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--redact-env RB_TEST_SHORT_KEY
expect_grep "^runbundle: invalid secret: 'RB_TEST_SHORT_KEY': " "$TMP/err"
if grep -q "'abc'" "$TMP/err"; then
	fail "the error shows the short key"
fi

# A key with a line end would end its header early, and an upstream that
# trims it would echo the key without it, where masking cannot find it.
RB_TEST_CR_KEY=$(printf 'sk-test-cr-key-0123456789\r')
export RB_TEST_CR_KEY
expect_status 3 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--auth a=RB_TEST_CR_KEY
expect_grep "invalid key of upstream: 'a': byte 26 of 26 is the control \
character 0x0d" "$TMP/err"
grep -q sk-test-cr-key "$TMP/err" && fail "the key reached the message"
unset RB_TEST_CR_KEY

# So would a line end in the header name, which would start a header of
# its own with the key in it.
RB_TEST_KEY=sk-test-key-0123456789
export RB_TEST_KEY
expect_status 3 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:1 \
	--auth "$(printf 'a=RB_TEST_KEY:X-Key\r\nX-Evil')"
expect_grep "invalid header of upstream: 'a': the key's header name must \
be a token" "$TMP/err"
unset RB_TEST_KEY

# Every bad --upstream or --listen is a usage error, found before any
# file is opened.
for url in ftp://127.0.0.1:1 127.0.0.1:1 http://127.0.0.1: \
	http://127.0.0.1:/v1 http://127.0.0.1:99999; do
	expect_status 2 "$RUNBUNDLE" gateway --upstream "a=$url" \
		--record "$TMP/never.jsonl"
	expect_grep "^runbundle: invalid upstream: 'a': " "$TMP/err"
	expect_grep "^usage: runbundle gateway" "$TMP/err"
done
expect_status 2 "$RUNBUNDLE" gateway --upstream a=ftp://127.0.0.1:1
expect_grep "invalid upstream: 'a': the URL must start with http" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --upstream a=http://127.0.0.1:
expect_grep "invalid upstream: 'a': the URL has an empty port" "$TMP/err"
expect_status 2 "$RUNBUNDLE" gateway --listen 1.2.3:99 \
	--model-script "$TMP/missing.json"
expect_grep "invalid --listen: '1.2.3:99'" "$TMP/err"
[ ! -e "$TMP/never.jsonl" ] || fail "a bad option left a record file"

# Credentials in the URL would go upstream unmasked: rejected, and the
# message names neither the user nor the password.
expect_status 2 "$RUNBUNDLE" gateway \
	--upstream 'a=http://canaryuser:Canary5ecretPw@127.0.0.1:1' \
	--record "$TMP/never.jsonl"
expect_grep "invalid upstream: 'a': the URL carries a user name" "$TMP/err"
expect_grep "^hint: .*--auth a=VARIABLE" "$TMP/err"
if grep -e canaryuser -e Canary5ecretPw "$TMP/err"; then
	fail "the credentials of the URL reached the message"
fi
expect_status 3 "$RUNBUNDLE" gateway --replay "$TMP/missing.jsonl"
expect_grep "cannot open exchanges: '$TMP/missing.jsonl'" "$TMP/err"
echo '{"seq": 1}' >"$TMP/bad.jsonl"
expect_status 3 "$RUNBUNDLE" gateway --replay "$TMP/bad.jsonl"
expect_grep "cannot load exchanges: '$TMP/bad.jsonl:1'" "$TMP/err"
echo '[]' >"$TMP/bad-script.json"
expect_status 3 "$RUNBUNDLE" gateway --model-script "$TMP/bad-script.json"
expect_grep "invalid model script" "$TMP/err"

start_upstream

# An explicit address and port, and a directory of records.
port=$("$PYTHON" -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$TMP/records"
"$RUNBUNDLE" gateway --listen "127.0.0.1:$port" --upstream t="$UPSTREAM" \
	--record "$TMP/records" --port-file "$TMP/fixed.port" \
	>"$TMP/fixed.out" 2>"$TMP/fixed.err" &
pid=$!
SERVER_PIDS="$SERVER_PIDS $pid"
expect_eq "$port" "$(wait_port "$TMP/fixed.port")" "the port listened on"
expect_grep "^gateway: listening on http://127.0.0.1:$port$" "$TMP/fixed.out"
expect_grep "^gateway: upstream 't' at http://127.0.0.1:$port/t$" \
	"$TMP/fixed.out"
curl -sS -o /dev/null "http://127.0.0.1:$port/empty"
curl -sS -o /dev/null "http://127.0.0.1:$port/echo"
stop_gateway "$pid"
[ -f "$TMP/records/000001.json" ] || fail "no record file for exchange 1"
expect_eq /echo "$($RECORDS field "$TMP/records/000002.json" 2 request.path)" \
	"path in the second record file"

# The x-runbundle-upstream header picks the upstream over the path, and
# is not forwarded.
"$RUNBUNDLE" gateway --upstream refused=http://127.0.0.1:1 \
	--upstream t="$UPSTREAM" --record "$TMP/header.jsonl" \
	--port-file "$TMP/header.port" >/dev/null 2>"$TMP/header.err" &
pid=$!
SERVER_PIDS="$SERVER_PIDS $pid"
gw=http://127.0.0.1:$(wait_port "$TMP/header.port")
curl -sS -H 'x-runbundle-upstream: t' "$gw/echo" >"$TMP/header.echo"
expect_grep '"path": "/echo"' "$TMP/header.echo"
if grep -qi 'x-runbundle-upstream' "$TMP/header.echo"; then
	fail "the x-runbundle-upstream header reached the upstream"
fi
expect_eq 400 "$(curl -sS -o "$TMP/unknown.json" -w '%{http_code}' \
	-H 'x-runbundle-upstream: nope' "$gw/echo")" "unknown upstream status"
expect_grep '"code":"unknown_upstream"' "$TMP/unknown.json"
expect_eq 502 "$(curl -sS -o /dev/null -w '%{http_code}' "$gw/echo")" \
	"status without the header, through the first upstream"
stop_gateway "$pid"
expect_eq t "$($RECORDS field "$TMP/header.jsonl" 1 upstream)" \
	"upstream chosen by the header"

# The request's path goes after the upstream URL's path, and its query
# after the URL's query, joined by '&'. An upstream named by the whole
# path gets no '/' before the query.
"$RUNBUNDLE" gateway --upstream q="$UPSTREAM/v1?api-version=1" \
	--upstream e="$UPSTREAM/echo" --port-file "$TMP/query.port" \
	>/dev/null 2>"$TMP/query.err" &
pid=$!
SERVER_PIDS="$SERVER_PIDS $pid"
gw=http://127.0.0.1:$(wait_port "$TMP/query.port")
for case in '/q/echo?x=1 /v1/echo?api-version=1&x=1' \
	'/q/echo /v1/echo?api-version=1' \
	'/q/echo#frag /v1/echo?api-version=1' \
	'/e?x=1 /echo?x=1' '/e /echo'; do
	curl -sS "$gw${case%% *}" >"$TMP/query.echo"
	expect_grep "\"path\": \"${case#* }\"" "$TMP/query.echo"
done
stop_gateway "$pid"

# IPv6 loopback, where the machine has it.
if "$PYTHON" -c 'import socket
socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	"$RUNBUNDLE" gateway --listen "[::1]:0" --upstream t="$UPSTREAM" \
		--port-file "$TMP/v6.port" >/dev/null 2>"$TMP/v6.err" &
	pid=$!
	SERVER_PIDS="$SERVER_PIDS $pid"
	v6=$(wait_port "$TMP/v6.port")
	expect_eq 200 "$(curl -sS -o /dev/null -w '%{http_code}' \
		"http://[::1]:$v6/empty")" "status over IPv6"
	stop_gateway "$pid"
fi

# A socket handed over already listening, as the sandbox does.
"$PYTHON" - "$RUNBUNDLE" "$UPSTREAM" "$TMP" <<'PY' || fail "--listen-fd failed"
import os, socket, subprocess, sys, time, urllib.request
runbundle, upstream, tmp = sys.argv[1:]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
port = s.getsockname()[1]
gw = subprocess.Popen([runbundle, "gateway", "--listen-fd", str(s.fileno()),
                       "--upstream", "t=" + upstream,
                       "--port-file", tmp + "/fd.port"],
                      pass_fds=[s.fileno()], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
s.close()
while not os.path.exists(tmp + "/fd.port"):
    time.sleep(0.05)
assert int(open(tmp + "/fd.port").read()) == port
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open("http://127.0.0.1:%d/empty" % port) as r:
    assert r.status == 200
gw.terminate()
assert gw.wait() == 0
PY
