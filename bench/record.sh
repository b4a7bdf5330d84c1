#!/bin/sh
# bench/record.sh - the overhead of "runbundle record" against a bare
# run, "runbundle sandbox" and strace.
#
# usage: bench/record.sh [RUNBUNDLE] [RUNS]
#
# Times the workloads of bench/overhead.sh bare, under "runbundle
# sandbox", under "runbundle record" (sandbox, tracer, snapshots before
# and after, a new bundle each time), and under
# "strace -f --seccomp-bpf -e trace=execve", the modes alternating
# within each of RUNS rounds (default 5). Prints the median wall and CPU
# times as markdown tables, with the ratios, and each mode's fixed cost
# and cost per exec.
set -eu

. "$(dirname "$0")/overhead.sh"
overhead_setup record "$@"

# The sandbox shows only the workspace and the system directories, so
# the workloads run in it, and bundles go beside it.
prefix_sandbox='"$RB" sandbox --workspace "$W" --'
prefix_record='"$RB" record -o "$TOP/out/$n.rb" --workspace "$W" --'

overhead_run bare sandbox record strace
overhead_tables record bare sandbox record strace
