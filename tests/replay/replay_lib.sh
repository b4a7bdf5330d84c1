# replay_lib.sh - helpers for the tests of runbundle replay and diff,
# sourced after lib.sh.
command -v curl >/dev/null || skip "curl is missing"
command -v jq >/dev/null || skip "jq is missing"

# Replays make their directories here, so that $TMP's cleanup takes
# along what --keep leaves; any user may write into it.
mkdir -p "$TMP/tmp"
chmod 1777 "$TMP/tmp"
export TMPDIR="$TMP/tmp"

# A model script of n text turns: one answer for every request.
# script_of N FILE
script_of() {
	jq -n --argjson n "$1" '{turns: [range($n) | {text: "ok"}]}' >"$2"
}

# new_workspace DIR COMMAND...: a workspace with the test agent and one
# step per COMMAND, and a model script for them in DIR.script.json.
new_workspace() {
	dir=$1
	shift
	mkdir -p "$dir"
	cp "$TESTS_DIR/replay/steps_agent.sh" "$dir/agent.sh"
	: >"$dir/steps.txt"
	for c in "$@"; do
		printf '%s\n' "$c" >>"$dir/steps.txt"
	done
	script_of $# "$dir.script.json"
}

# record_in DIR BUNDLE [OPTION...]: record the test agent in DIR.
record_in() {
	dir=$1
	out=$2
	shift 2
	(cd "$dir" && "$RUNBUNDLE" record -o "$out" \
		--model-script "$dir.script.json" "$@" -- sh ./agent.sh \
		</dev/null >"$TMP/record.out" 2>"$TMP/record.err") || {
		rc=$?
		# The agent's own status is fine: the bundle must exist.
		[ -f "$out" ] || { cat "$TMP/record.err" >&2;
			fail "record exited $rc"; }
	}
	"$RUNBUNDLE" verify "$out" >/dev/null 2>&1 ||
		fail "the recording '$out' does not verify"
}

expect_replay_status() {
	[ "$status" = "$1" ] || {
		cat "$TMP/replay.err" "$TMP/json" >&2
		fail "replay: expected exit status $1, got $status"
	}
}

# upstreams_setup: define start_upstream NAME [GAP_MS], which starts
# tests/replay/upstream.py on a loopback port, logging to $TMP/NAME.log,
# and sets $url; every upstream stops when the test exits.
upstreams_setup() {
	/usr/bin/python3 -c 'import http.server' 2>/dev/null ||
		skip "/usr/bin/python3 with http.server is missing"
	pids=
	trap stop_upstreams EXIT
}

stop_upstreams() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	cleanup
}

start_upstream() {
	/usr/bin/python3 "$TESTS_DIR/replay/upstream.py" "$TMP/$1.port" \
		"$TMP/$1.log" ${2:-} &
	pids="$pids $!"
	url=http://127.0.0.1:$(wait_port "$TMP/$1.port")
	: >>"$TMP/$1.log"
}

# control_dir: make $TMP/ctl for values that a test changes between
# record and replay, outside the workspace, and write $TMP/policy.json,
# which binds it read-only in the sandbox beside the system paths.
control_dir() {
	ctl=$TMP/ctl
	mkdir "$ctl"
	jq -n --arg ctl "$ctl" '{version: 1, filesystem: {read_only:
		["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc",
		$ctl]}}' >"$TMP/policy.json"
}
