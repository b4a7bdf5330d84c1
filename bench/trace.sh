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
# the last traced run recorded. Last it counts the tracer's own system
# calls on workload (b), with strace -c on runbundle alone: without -f,
# strace leaves runbundle's tracees to it.
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

# syscalls: the tracer's system calls on (b), per exec, as a table.
(cd "$W" && eval "strace -c -o \"\$TOP/syscalls\" \"\$RB\" trace \
	-o \"\$TOP/out/syscalls.json\" -- $cmd_b") >/dev/null 2>&1
echo
echo "The tracer's own system calls on workload (b), per exec, those"
echo "of at least one in ten execs:"
echo
echo "| system call | calls | per exec |"
echo "|---|---|---|"
awk '/^-/ { rule++; next } rule == 1 && NF >= 5 && $4 >= 200 {
	printf "| %s | %d | %.2f |\n", $NF, $4, $4 / 2000 }' \
	"$TOP/syscalls" | sort -t'|' -k3 -rn
awk '$NF == "total" { printf "| all | %d | %.2f |\n", $4, $4 / 2000 }' \
	"$TOP/syscalls"
