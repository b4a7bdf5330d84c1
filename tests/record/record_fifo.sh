#!/bin/sh
# A FIFO where the recorder opens a file of the agent never hangs the
# recording. The agent executes a FIFO, which the tracer opens before
# the kernel rejects the exec. It also swaps files for FIFOs while the
# workspace is snapshotted before each of its model requests, so that
# a file lstat'ed as regular is a FIFO when the snapshot opens it. A
# blocking open would wait for a writer for ever, beyond the policy's
# timeout and any signal: timeout -s KILL turns that into a failure.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir -p "$ws"
echo '{"version": 1, "limits": {"timeout_seconds": 40}}' >"$TMP/policy.json"
python3 -c "import json; print(json.dumps({'turns': [{'text': 'x'}] * 200}))" \
	>"$TMP/script.json"

# bounded BUNDLE [OPTION...] -- COMMAND...: record as record() does,
# killed after 80 s, far beyond the policy's timeout.
bounded() {
	bundle=$1
	shift
	set +e
	timeout -s KILL 80 "$RB" record -o "$bundle" "$@" \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
	set -e
	[ "$status" != 137 ] || fail "record hung until it was killed"
}

cd "$ws"
bounded "$TMP/exec.rb" --policy "$TMP/policy.json" -- \
	sh -c 'mkfifo p && chmod +x p; ./p; echo "exec: $?"'
expect_recorded 0
expect_grep '^exec: 126$' "$TMP/out"
rm p

# The swapper exchanges each file with its FIFO (RENAME_EXCHANGE) in a
# loop, while the agent makes 200 requests, each after a snapshot.
cat >swap.py <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
os.mkdir(sys.argv[1])
os.chdir(sys.argv[1])
for i in range(50):
    open('f%d' % i, 'w').write('x')
    os.mkfifo('p%d' % i)
while True:
    for i in range(50):
        libc.renameat2(-100, b'f%d' % i, -100, b'p%d' % i, 2)
PY
cat >agent.sh <<'SH'
#!/bin/sh
python3 swap.py d & sleep 0.5
for i in $(seq 1 200); do
	curl -s -o /dev/null -X POST "$OPENAI_BASE_URL/chat/completions" \
		-H 'content-type: application/json' \
		-d '{"model": "m", "messages": []}'
done
kill $!
SH
chmod +x agent.sh
bounded "$TMP/swap.rb" --policy "$TMP/policy.json" \
	--model-script "$TMP/script.json" -- ./agent.sh
expect_recorded 0
expect_eq 200 "$(last_data "$TMP/swap.rb" end .counts.model_calls)" \
	"model calls"
