# trace_lib.sh - helpers for the tracer's integration tests, sourced
# after lib.sh. $1 of the test is the trace_helper program.
TRACE_HELPER=${1:?usage: TEST.sh TRACE_HELPER}
RB=${RB:-$RUNBUNDLE}

# trace_json OUT COMMAND [ARG...]: trace into OUT as JSON, leaving the
# command's output in $TMP/cmd.out and $TMP/cmd.err and its exit status
# in $status.
trace_json() {
	out=$1
	shift
	set +e
	"$RB" trace --json -o "$out" -- "$@" >"$TMP/cmd.out" 2>"$TMP/cmd.err"
	status=$?
	set -e
	[ -s "$out" ] || {
		cat "$TMP/cmd.err" >&2
		fail "trace $*: no tree written (exit status $status)"
	}
}

# The tree reduced to what it is made of: for each process, the base
# names of argv[0] of its successful execs, and its children, sorted so
# that parallel children compare equal in any order.
SHAPE='def base: split("/") | last;
def s: {x: [.execs[] | select(.error == null) | .argv[0] | base],
	c: ([.children[] | s] | sort)};
s'

# expect_shape FILE EXPECTED: the tree in FILE has exactly this shape.
expect_shape() {
	got=$(jq -cS "$SHAPE" "$1")
	expect_eq "$2" "$got" "process tree of $1"
}

# jq_eq FILE FILTER EXPECTED: one jq value of the tree.
jq_eq() {
	got=$(jq -r "$2" "$1")
	expect_eq "$3" "$got" "$2 in $1"
}
