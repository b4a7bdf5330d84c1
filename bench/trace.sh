#!/bin/sh
# bench/trace.sh - the process tracer's overhead against strace.
#
# usage: bench/trace.sh [RUNBUNDLE] [RUNS]
#
# Times the workloads of bench/overhead.sh bare, under "runbundle
# trace", and under "strace -f --seccomp-bpf -e trace=execve", the
# modes alternating within each of RUNS rounds (default 5). Prints the
# median wall and CPU times as markdown tables, with the ratios, each
# mode's fixed cost and cost per exec, and the number of processes that
# the last traced run recorded.
set -eu

. "$(dirname "$0")/overhead.sh"
overhead_setup trace "$@"

prefix_trace='"$RB" trace --json -o "$TOP/out/tree.json" --'

overhead_run bare trace strace
overhead_tables trace bare trace strace
procs=$(jq '[.. | objects | select(has("execs"))] | length' \
	"$TOP/out/tree.json")
echo
echo "The last traced run, of workload (c), recorded $procs processes."
