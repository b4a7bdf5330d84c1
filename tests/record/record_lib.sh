# record_lib.sh - helpers for the tests of runbundle record, sourced after
# lib.sh.
EVENTS="/usr/bin/python3 $TESTS_DIR/record/events.py"
RB=${RB:-$RUNBUNDLE}

# record BUNDLE [OPTION...] -- COMMAND...: record, leaving the agent's
# output in $TMP/out and $TMP/err and the exit status in $status.
record() {
	bundle=$1
	shift
	set +e
	"$RB" record -o "$bundle" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
	set -e
}

# record_live BUNDLE OUT ERR SCRIPT: record sh -c SCRIPT in the
# background, with its output in OUT and ERR and its pid in $recorder,
# and return once the agent's exec is in the bundle. SCRIPT waits for
# something of the test's, such as a file "go", so that the test can act
# on the bundle while the recording writes it.
record_live() {
	bundle=$1
	"$RB" record -o "$bundle" -- sh -c "$4" >"$2" 2>"$3" </dev/null &
	recorder=$!
	i=0
	until [ -s "$bundle" ] && "$RB" log "$bundle" 2>/dev/null |
		grep -q ' exec '; do
		i=$((i + 1))
		[ $i -le 500 ] || fail "the agent did not start in 10 s"
		sleep 0.02
	done
}

# expect_recorded STATUS: the last record exited with STATUS and wrote a
# finalized bundle that verifies.
expect_recorded() {
	if [ "$status" != "$1" ]; then
		cat "$TMP/err" >&2
		fail "record: expected exit status $1, got $status"
	fi
	"$RB" verify "$bundle" >"$TMP/verify" 2>&1 || {
		cat "$TMP/verify" >&2
		fail "verify '$bundle' failed"
	}
	expect_grep '^root: [0-9a-f]\{64\}$' "$TMP/err"
	expect_grep '^summary: ' "$TMP/err"
}

# tree_json BUNDLE OUT: the recorded process tree as the tracer's JSON.
tree_json() {
	seq=$($EVENTS "$1" kinds | awk '$2 == "process-tree" { print $1 }')
	[ -n "$seq" ] || fail "'$1' has no process-tree event"
	$EVENTS "$1" object "$seq" >"$2"
}

# The tree reduced to what it is made of: for each process, the base
# names of argv[0] of its successful execs, and its children, sorted so
# that parallel children compare equal in any order.
SHAPE='def base: split("/") | last;
def s: {x: [.execs[] | select(.error == null) | .argv[0] | base],
	c: ([.children[] | s] | sort)};
s'

# expect_shape BUNDLE EXPECTED: the recorded tree has exactly this shape.
expect_shape() {
	tree_json "$1" "$TMP/tree.json"
	got=$(jq -cS "$SHAPE" "$TMP/tree.json")
	expect_eq "$2" "$got" "process tree of $1"
}

# last_data BUNDLE KIND FILTER: one jq value of the last KIND event.
last_data() {
	$EVENTS "$1" last "$2" | jq -r "$3"
}

# runners_setup: make the test user and its copy of runbundle
# (unpriv_setup), let that user write into $TMP, and list in $runners who
# runs each case: ourselves (self), and the test user (user) when we are
# root.
runners_setup() {
	unpriv_setup
	chmod 777 "$TMP"
	runners=self
	if [ "$(id -u)" -eq 0 ]; then
		runners="self user"
	fi
}

# run_as RUNNER COMMAND...: run as ourselves (self) or as the test user.
run_as() {
	_as=$1
	shift
	if [ "$_as" = user ]; then
		as_user "$@"
	else
		"$@"
	fi
}

# replay_cleanly RUNNER RB BUNDLE DIR: replay BUNDLE with RB as RUNNER,
# with TMPDIR=DIR, and fail unless it exits 0, reports the run identical
# and leaves nothing in DIR.
replay_cleanly() {
	set +e
	run_as "$1" env TMPDIR="$4" "$2" replay "$3" >"$TMP/out" 2>"$TMP/err"
	_status=$?
	set -e
	[ "$_status" = 0 ] || cat "$TMP/err" >&2
	expect_eq 0 "$_status" "the replay's status ($1)"
	expect_grep '^identical' "$TMP/out"
	_left=$(find "$4" -mindepth 1 -maxdepth 2 | head -3)
	[ -z "$_left" ] || fail "$1: the replay left $_left"
}
