# gateway_lib.sh - sourced by the gateway tests, after lib.sh.
#
# Starts the test upstream (upstream.py) and gateways on loopback, and
# stops them at exit. Every server writes its port to a file once it
# listens; the helpers wait for that file.

PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || skip "$PYTHON is missing"
"$PYTHON" -c 'import brotli' 2>/dev/null ||
	skip "python3-brotli is missing (scripts/setup installs it)"
command -v curl >/dev/null || skip "curl is missing"

# Everything stays on loopback: no proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY='*' no_proxy='*'

RECORDS="$PYTHON $TESTS_DIR/harness/gateway_records.py"
SERVER_PIDS=""

stop_servers() {
	for pid in $SERVER_PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $SERVER_PIDS; do
		wait "$pid" 2>/dev/null || true
	done
	SERVER_PIDS=""
}

gateway_cleanup() {
	stop_servers
	cleanup
}
trap gateway_cleanup EXIT

# Helpers keep their variables under a "_" prefix, because sh has no
# local variables.

# start_upstream: start upstream.py; sets UPSTREAM to its base URL.
start_upstream() {
	"$PYTHON" "$TESTS_DIR/harness/upstream.py" "$TMP/upstream.port" \
		2>"$TMP/upstream.err" &
	SERVER_PIDS="$SERVER_PIDS $!"
	UPSTREAM=http://127.0.0.1:$(wait_port "$TMP/upstream.port")
}

# start_gateway NAME [OPTION...]: start "runbundle gateway" with the
# options, recording to $TMP/NAME.jsonl; sets GATEWAY to its base URL
# and GATEWAY_PID.
start_gateway() {
	_gateway_name=$1
	shift
	rm -f "$TMP/$_gateway_name.port"
	"$RUNBUNDLE" gateway --port-file "$TMP/$_gateway_name.port" \
		--record "$TMP/$_gateway_name.jsonl" "$@" \
		>"$TMP/$_gateway_name.out" 2>"$TMP/$_gateway_name.err" &
	GATEWAY_PID=$!
	SERVER_PIDS="$SERVER_PIDS $GATEWAY_PID"
	GATEWAY=http://127.0.0.1:$(wait_port "$TMP/$_gateway_name.port")
}

# wait_records FILE N: wait until FILE contains N exchanges or more. The
# gateway stores an exchange once its response has ended, which can be
# just after the client has read the last byte.
wait_records() {
	_wait_tries=0
	while [ "$($RECORDS count "$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
		_wait_tries=$((_wait_tries + 1))
		[ "$_wait_tries" -le 200 ] ||
			fail "fewer than $2 exchanges in '$1' after 10 s"
		sleep 0.05
	done
}

# stop_gateway PID [STATUS]: stop a gateway with SIGTERM and check its
# exit status (0 by default), so that a crash fails the test.
stop_gateway() {
	kill -TERM "$1"
	wait_status "$1"
	if [ "$status" != "${2:-0}" ]; then
		tail -n 40 "$TMP"/*.err >&2
		fail "gateway $1 exited with status $status," \
			"expected ${2:-0}"
	fi
}

# post URL JSON [CURL OPTION...]: POST a JSON body, output to stdout.
post() {
	_post_url=$1
	_post_body=$2
	shift 2
	curl -sS -N -H 'Content-Type: application/json' \
		--data-binary "$_post_body" "$@" "$_post_url"
}
