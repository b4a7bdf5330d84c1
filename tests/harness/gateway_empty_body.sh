#!/bin/sh
# An empty request body keeps its framing on the way upstream. A PUT,
# PATCH or DELETE that the agent sent with Content-Length: 0, or with an
# empty chunked body, reaches the upstream with Content-Length: 0. One
# that the agent sent without a length reaches it without one.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

start_upstream
start_gateway rec --upstream test="$UPSTREAM"

# sent_length FILE: the Content-Length that the echo in FILE got, or
# "none".
sent_length() {
	"$PYTHON" -c 'import json, sys
headers = json.load(open(sys.argv[1]))["headers"]
print(next((v for k, v in headers if k.lower() == "content-length"),
           "none"))' "$1"
}

for method in PUT PATCH DELETE; do
	curl -sS -X "$method" -H 'Content-Length: 0' "$GATEWAY/echo" \
		>"$TMP/length.json" || fail "$method with a length failed"
	expect_eq 0 "$(sent_length "$TMP/length.json")" \
		"Content-Length upstream of $method with Content-Length: 0"

	curl -sS -X "$method" -H 'Transfer-Encoding: chunked' \
		--data-binary '' "$GATEWAY/echo" \
		>"$TMP/chunked.json" || fail "$method chunked failed"
	expect_eq 0 "$(sent_length "$TMP/chunked.json")" \
		"Content-Length upstream of $method with an empty chunked body"

	curl -sS -X "$method" "$GATEWAY/echo" >"$TMP/none.json" ||
		fail "$method without a length failed"
	expect_eq none "$(sent_length "$TMP/none.json")" \
		"Content-Length upstream of $method without a length"
done

# A GET keeps no length either.
curl -sS "$GATEWAY/echo" >"$TMP/get.json" || fail "GET failed"
expect_eq none "$(sent_length "$TMP/get.json")" \
	"Content-Length upstream of GET"
stop_gateway "$GATEWAY_PID"
