#!/bin/sh
# Start-up and teardown of `true` in runbundle's sandbox, against bare
# `true`, bubblewrap and unshare(1): the median wall time of N runs each
# (default 100), and each as a ratio to bwrap.
#
# The last row times sandbox_launch() and sandbox_wait() inside one
# process (bench/sandbox_launch.c), as the recorder calls them, without
# the start-up of the runbundle executable.
#
# usage: bench/sandbox.sh [BUILD_DIR] [N]
set -eu

BUILD=$(realpath "${1:-build}")
RUNBUNDLE=$BUILD/runbundle
LAUNCH=$BUILD/bench/sandbox_launch_bench
N=${2:-100}
PY=/usr/bin/python3
ws=$(mktemp -d "${TMPDIR:-/tmp}/rbbench.XXXXXX")
trap 'rm -rf "$ws"' EXIT

for tool in bwrap unshare; do
	command -v "$tool" >/dev/null ||
		{ echo "bench: missing '$tool' (scripts/setup --bench)" >&2;
		  exit 1; }
done

# One Python process times every run, so the timer's own start-up is
# not measured; runs of the peers are interleaved to share the noise.
$PY - "$N" "$ws" "$RUNBUNDLE" "$LAUNCH" <<'PYEOF'
import statistics, subprocess, sys, time
n, ws, rb, launch = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
cases = [
    ("true", ["true"]),
    ("unshare -Urnpf true", ["unshare", "-Urnpf", "true"]),
    ("bwrap --unshare-all --ro-bind / / true",
     ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"]),
    ("runbundle sandbox -- true",
     [rb, "sandbox", "--workspace", ws, "--", "true"]),
]
times = {name: [] for name, _ in cases}
for _ in range(n):
    for name, argv in cases:
        t = time.perf_counter()
        subprocess.run(argv, check=True, cwd=ws)
        times[name].append(time.perf_counter() - t)
bwrap = statistics.median(times[cases[2][0]])
print("| command | median (ms) | ratio to bwrap |")
print("|---|---|---|")
for name, _ in cases:
    m = statistics.median(times[name])
    print("| `%s` | %.2f | %.2f |" % (name, m * 1000, m / bwrap))
in_process = float(subprocess.run([launch, ws, str(n)], check=True,
                              capture_output=True, text=True).stdout) / 1000
print("| `sandbox_launch()` + `sandbox_wait()` in one process | %.2f | %.2f |"
      % (in_process * 1000, in_process / bwrap))
PYEOF
