#!/bin/sh
# bench/trace.sh - the process tracer's overhead against strace.
#
# usage: bench/trace.sh [RUNBUNDLE] [RUNS]
#
# Times three workloads bare, under "runbundle trace", and under
# "strace -f --seccomp-bpf -e trace=execve": (a) make -j2 of a generated
# 300-file C project, (b) a shell loop of 2,000 short execs, (c) a Python
# unittest run whose tests start subprocesses. The modes alternate within
# each round, so that load from other work on the machine spreads over
# all of them. Prints the median wall time of RUNS rounds (default 5)
# and the ratios to bare.
set -eu

RB=${1:-build/runbundle}
RUNS=${2:-5}
PY=/usr/bin/python3
command -v strace >/dev/null || { echo "bench: strace is missing" >&2; exit 1; }
command -v make >/dev/null || { echo "bench: make is missing" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing" >&2; exit 1; }
RB=$(cd "$(dirname "$RB")" && pwd)/$(basename "$RB")
[ -x "$RB" ] || { echo "bench: no runbundle at '$RB'" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/rbbench-trace.XXXXXX")
trap 'rm -rf "$W"' EXIT

# (a) 300 small C files and a Makefile.
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

# (c) A unittest suite: 80 modules, half of which run a subprocess.
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

workload_a() { make -s -C "$W/proj" clean >/dev/null; }
cmd_a='make -s -C "$W/proj" -j2'
cmd_b="sh -c 'i=0; while [ \$i -lt 2000 ]; do /bin/true; i=\$((i+1)); done'"
cmd_c='$PY -m unittest discover -s "$W/py" -t "$W/py" -q'

prefix_bare=''
prefix_traced='"$RB" trace --json -o "$W/tree.json" --'
prefix_straced='strace -f --seccomp-bpf -e trace=execve -o /dev/null'

# time_one WORKLOAD MODE: append "wall_ms cpu_ms" to $W/MODE, where cpu
# is user plus system time of every process of the run, tracer included.
time_one() {
	[ "$1" = a ] && workload_a
	eval "cmd=\$cmd_$1 prefix=\$prefix_$2"
	eval "/usr/bin/time -f '%e %U %S' -o \"\$W/t\" $prefix $cmd" \
		>/dev/null 2>&1
	awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$W/t" \
		>>"$W/$2"
}

# median COLUMN FILE
median() {
	cut -d' ' -f"$1" "$2" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

echo "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs: $RUNS; medians; wall and cpu (user + system) in ms"
printf '%-28s %7s %7s %7s %7s %7s | %6s %6s %6s %6s %6s\n' workload \
	bare trace strace tr/b st/b cpu:b tr st tr/b st/b
for w in a b c; do
	: >"$W/bare" && : >"$W/traced" && : >"$W/straced"
	time_one $w bare	# warm the page cache
	: >"$W/bare"
	r=0
	while [ $r -lt "$RUNS" ]; do
		for m in bare traced straced; do
			time_one $w $m
		done
		r=$((r + 1))
	done
	b=$(median 1 "$W/bare"); t=$(median 1 "$W/traced")
	s=$(median 1 "$W/straced")
	cb=$(median 2 "$W/bare"); ct=$(median 2 "$W/traced")
	cs=$(median 2 "$W/straced")
	case $w in
	a) name="make -j2, 300 C files" ;;
	b) name="sh loop, 2000 execs" ;;
	c) name="python3 unittest, 80 files" ;;
	esac
	printf '%-28s %7d %7d %7d %7s %7s | %6d %6d %6d %6s %6s\n' \
		"$name" "$b" "$t" "$s" "$(ratio "$t" "$b")" "$(ratio "$s" "$b")" \
		"$cb" "$ct" "$cs" "$(ratio "$ct" "$cb")" "$(ratio "$cs" "$cb")"
done
procs=$(jq '[.. | objects | select(has("execs"))] | length' "$W/tree.json")
echo "last traced run recorded $procs processes"
