#!/bin/sh
# bench/record.sh - the overhead of "runbundle record" against a bare
# run, "runbundle sandbox" and strace.
#
# usage: bench/record.sh [RUNBUNDLE] [RUNS]
#
# Times three workloads: (a) make -j2 of a generated 300-file C project,
# (b) a shell loop of 2,000 short execs, (c) a Python unittest run whose
# tests start subprocesses. Each runs bare, under "runbundle sandbox",
# under "runbundle record" (sandbox, tracer, snapshots before and after,
# a new bundle each time), and under
# "strace -f --seccomp-bpf -e trace=execve". The modes alternate within
# each round, so that load from other work spreads over all of them.
# Prints the median wall time of RUNS rounds (default 5) and the ratios,
# then the same for CPU time: user plus system time of every process of
# the run, runbundle's and strace's own included, which load from other
# work disturbs less than the wall clock.
set -eu

RB=${1:-build/runbundle}
RUNS=${2:-5}
PY=/usr/bin/python3
for tool in strace make "$PY" /usr/bin/time; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool is missing" >&2
		exit 1
	}
done
RB=$(cd "$(dirname "$RB")" && pwd)/$(basename "$RB")
if [ ! -x "$RB" ]; then
	echo "bench: runbundle not found: '$RB'" >&2
	exit 1
fi

# The workloads live in the workspace, because the sandbox shows only
# the workspace and the system directories; bundles go beside it.
TOP=$(mktemp -d "${TMPDIR:-/tmp}/rbbench-record.XXXXXX")
W=$TOP/ws
mkdir "$W" "$TOP/bundles"
trap 'rm -rf "$TOP"' EXIT

mkdir "$W/proj"
i=0
while [ $i -lt 300 ]; do
	printf 'int f%d(int x) { return x * %d + %d; }\n' $i $i $((i % 7)) \
		>"$W/proj/f$i.c"
	i=$((i + 1))
done
printf 'int main(void) { return 0; }\n' >"$W/proj/main.c"
cat >"$W/proj/Makefile" <<'MK'
SRCS = $(wildcard *.c)
OBJS = $(SRCS:.c=.o)
prog: $(OBJS)
	cc -o $@ $(OBJS)
%.o: %.c
	cc -O1 -c -o $@ $<
clean:
	rm -f *.o prog
MK

mkdir "$W/py"
i=0
while [ $i -lt 80 ]; do
	cat >"$W/py/test_m$i.py" <<PYEOF
import subprocess, unittest, json, hashlib
class T(unittest.TestCase):
    def test_compute(self):
        data = json.dumps(list(range(200000)))
        self.assertEqual(len(hashlib.sha256(data.encode()).hexdigest()), 64)
    def test_spawn(self):
        if $i % 2:
            out = subprocess.run(["/bin/echo", "x"], capture_output=True)
            self.assertEqual(out.stdout, b"x\n")
PYEOF
	i=$((i + 1))
done

cmd_a='make -s -C proj -j2'
cmd_b="sh -c 'i=0; while [ \$i -lt 2000 ]; do /bin/true; i=\$((i+1)); done'"
cmd_c="$PY -B -m unittest discover -s py -t py -q"

prefix_bare=''
prefix_sandbox='"$RB" sandbox --workspace "$W" --'
prefix_record='"$RB" record -o "$TOP/bundles/$n.rb" --workspace "$W" --'
prefix_strace='strace -f --seccomp-bpf -e trace=execve -o /dev/null'

# time_one WORKLOAD MODE: append the wall and the CPU time in
# milliseconds to $TOP/WORKLOAD-MODE and $TOP/WORKLOAD-MODE.cpu.
n=0
time_one() {
	n=$((n + 1))
	[ "$1" = a ] && make -s -C "$W/proj" clean >/dev/null
	eval "cmd=\$cmd_$1 prefix=\$prefix_$2"
	(cd "$W" && eval "/usr/bin/time -f '%e %U %S' -o \"\$TOP/t\" \
		$prefix $cmd" >/dev/null 2>&1) || {
		echo "bench: workload $1 failed under $2" >&2
		exit 1
	}
	awk '{ printf "%d\n", $1 * 1000 }' "$TOP/t" >>"$TOP/$1-$2"
	awk '{ printf "%d\n", ($2 + $3) * 1000 }' "$TOP/t" >>"$TOP/$1-$2.cpu"
	rm -f "$TOP/bundles/$n.rb"
}

median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]
		else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

round=0
while [ $round -lt "$RUNS" ]; do
	for w in a b c; do
		for m in bare sandbox record strace; do
			time_one "$w" "$m"
		done
	done
	round=$((round + 1))
done

# table SUFFIX WHAT: the medians and ratios of one measure.
table() {
	printf '| workload | bare %s | sandbox | record | strace |' "$2"
	printf ' record / bare | record / strace |\n'
	printf '|---|---|---|---|---|---|---|\n'
	for w in a b c; do
		bare=$(median "$TOP/$w-bare$1")
		sandbox=$(median "$TOP/$w-sandbox$1")
		record=$(median "$TOP/$w-record$1")
		strace=$(median "$TOP/$w-strace$1")
		awk -v w="$w" -v b="$bare" -v s="$sandbox" -v r="$record" \
		    -v t="$strace" 'BEGIN {
			printf "| %s | %d | %d | %d | %d | %.2f | %.2f |\n",
			       w, b, s, r, t, r / b, r / t }'
	done
}

table "" "wall ms"
echo
table .cpu "CPU ms"
