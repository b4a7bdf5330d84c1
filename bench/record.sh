#!/bin/sh
# bench/record.sh - the overhead of "runbundle record" against a bare
# run, "runbundle sandbox" and strace.
#
# usage: bench/record.sh [RUNBUNDLE] [RUNS]
#
# Times the workloads of bench/overhead.sh in these modes, alternating
# within each of RUNS rounds (default 5):
#
#	bare		the command alone
#	sandbox		runbundle sandbox
#	trace		runbundle trace, the tracer alone
#	trace_setsid	runbundle trace -- setsid: the tracer, with the
#			command in a session of its own, where the
#			sandbox's init puts the agent
#	record		runbundle record: sandbox, tracer, snapshots
#			before and after, a new bundle each time
#	strace		strace -f --seccomp-bpf -e trace=execve
#
# Prints the median wall and CPU times as markdown tables, with the
# ratios, and each mode's fixed cost and cost per exec. Record's cost
# per exec then splits into the tracer's, the session's and the rest.
set -eu

. "$(dirname "$0")/overhead.sh"
bench_require setsid
overhead_setup record "$@"

# The sandbox shows only the workspace and the system directories, so
# the workloads run in it, and bundles go beside it. runbundle sandbox
# exits at the command's status and leaves its init to be reaped, so it
# runs under bench/reap.c, which reaps init and so counts init's CPU
# time and that of the processes init reaped.
REAP=$(dirname "$RB")/bench/reap
[ -x "$REAP" ] || { echo "bench: not built: '$REAP'" >&2; exit 1; }
prefix_sandbox='"$REAP" "$RB" sandbox --workspace "$W" --'
prefix_trace='"$RB" trace -o "$TOP/out/$n.json" --'
prefix_trace_setsid='"$RB" trace -o "$TOP/out/$n.json" -- setsid'
prefix_record='"$RB" record -o "$TOP/out/$n.rb" --workspace "$W" --'

overhead_run bare sandbox trace trace_setsid record strace
overhead_tables record bare sandbox trace trace_setsid record strace
