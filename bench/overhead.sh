# bench/overhead.sh - what bench/record.sh and bench/trace.sh share:
# the three workloads, the timing of interleaved modes, medians, and the
# tables. Sourced, not run.
#
# A script sources this file and calls overhead_setup NAME [RUNBUNDLE]
# [RUNS] with its own arguments. It then sets prefix_MODE for each of
# its modes other than bare and strace: a command prefix, evaluated in
# the workspace $W, where $n numbers the run. Last it calls overhead_run
# MODE... and overhead_tables FOCUS MODE..., whose first mode must be
# bare.
#
# The workloads, all run from $W: (0) one exec of true, whose time over
# bare is the fixed cost of a mode, (a) make -j2 of a generated 300-file
# C project, (b) a shell loop of 2,000 short execs, (c) a Python
# unittest run of 80 modules, half of whose tests start a subprocess.
# Each round times every workload in every mode, the modes alternating,
# so that load from other work on the machine spreads over all of them.
# Wall time is the elapsed time; CPU time is user plus system time of
# every process of the run, runbundle's threads and strace included,
# which load from other work disturbs less than the wall clock.

PY=/usr/bin/python3
. "$(dirname "$0")/lib.sh"

overhead_check() {
	bench_require strace make jq "$PY" /usr/bin/time
	bench_runbundle
}

overhead_make_project() {
	mkdir "$W/proj"
	i=0
	while [ $i -lt 300 ]; do
		printf 'int f%d(int x) { return x * %d + %d; }\n' \
			$i $i $((i % 7)) >"$W/proj/f$i.c"
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
}

overhead_make_tests() {
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
}

# overhead_setup NAME [RUNBUNDLE] [RUNS]: set RB (default
# build/runbundle) and RUNS (default 5), check the tools, and make $TOP
# with the workspace $W and the workloads in it. $TOP is removed on
# exit.
overhead_setup() {
	RB=${2:-build/runbundle}
	RUNS=${3:-5}
	overhead_check
	TOP=$(mktemp -d "${TMPDIR:-/tmp}/rbbench-$1.XXXXXX")
	W=$TOP/ws
	mkdir "$W" "$TOP/out"
	trap 'rm -rf "$TOP"' EXIT
	overhead_make_project
	overhead_make_tests
	cmd_0=/bin/true
	cmd_a='make -s -C proj -j2'
	cmd_b="sh -c 'i=0; while [ \$i -lt 2000 ]; do /bin/true;"
	cmd_b="$cmd_b i=\$((i+1)); done'"
	cmd_c="$PY -B -m unittest discover -s py -t py -q"
	name_0='(0) `true`, one exec'
	name_a='(a) `make -j2`, 300 C files'
	name_b='(b) sh loop, 2,000 execs'
	name_c='(c) `python3 -m unittest`, 80 files'
	prefix_bare=''
	prefix_strace='strace -f --seccomp-bpf -e trace=execve -o /dev/null'
	n=0
}

# time_one WORKLOAD MODE: append the wall and the CPU time in
# milliseconds, and the 1-minute load average, to $TOP/WORKLOAD-MODE.
# time(1) gives CPU and wall time in steps of 10 ms. So the wall time
# comes from the clock, read around the whole run. The start of time(1)
# and of the subshell, about 1 ms, counts in every mode alike.
time_one() {
	n=$((n + 1))
	[ "$1" = a ] && make -s -C "$W/proj" clean >/dev/null
	eval "cmd=\$cmd_$1 prefix=\$prefix_$2"
	start=$(date +%s%N)
	(cd "$W" && eval "/usr/bin/time -f '%U %S' -o \"\$TOP/t\" \
		$prefix $cmd" >/dev/null 2>&1) || {
		echo "bench: workload $1 failed under $2" >&2
		exit 1
	}
	end=$(date +%s%N)
	load=$(cut -d' ' -f1 /proc/loadavg)
	awk -v load="$load" -v ns=$((end - start)) '{
		printf "%.1f %d %s\n", ns / 1e6, ($1 + $2) * 1000, load
	}' "$TOP/t" >>"$TOP/$1-$2"
	rm -f "$TOP/out/$n".*
}

# overhead_run MODE...: one run of workload (a) bare to warm the page
# cache, then RUNS rounds of every workload in every mode.
overhead_run() {
	time_one a bare
	: >"$TOP/a-bare"
	round=0
	while [ $round -lt "$RUNS" ]; do
		for w in 0 a b c; do
			for m in "$@"; do
				time_one "$w" "$m"
			done
		done
		round=$((round + 1))
	done
}

# median COLUMN FILE
median() {
	cut -d' ' -f"$1" "$2" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio COLUMN WORKLOAD MODE OVER: the median of MODE over that of OVER,
# or - when that of OVER is 0 (CPU time below time(1)'s 10 ms).
ratio() {
	awk -v a="$(median "$1" "$TOP/$2-$3")" \
	    -v b="$(median "$1" "$TOP/$2-$4")" \
	    'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'
}

# table COLUMN WHAT FOCUS MODE...: the medians of one measure, each mode
# over bare, FOCUS over strace, and the range of the load average.
table() {
	col=$1 what=$2 focus=$3
	shift 3
	head='| workload |' rule='|---|'
	for m in "$@"; do
		head="$head $m $what |" rule="$rule---|"
	done
	for m in "$@"; do
		[ "$m" != bare ] && head="$head $m / bare |" rule="$rule---|"
	done
	echo "$head $focus / strace | load (1 min) |"
	echo "$rule---|---|"
	for w in 0 a b c; do
		eval "line=\"| \$name_$w |\""
		for m in "$@"; do
			line="$line $(median "$col" "$TOP/$w-$m" |
				awk '{ printf "%.0f", $1 }') |"
		done
		for m in "$@"; do
			[ "$m" != bare ] &&
				line="$line $(ratio "$col" "$w" "$m" bare) |"
		done
		line="$line $(ratio "$col" "$w" "$focus" strace) |"
		load=$(cat "$TOP/$w"-* | cut -d' ' -f3 | sort -n |
			awk 'NR == 1 { low = $1 } { high = $1 }
			     END { printf "%s to %s", low, high }')
		echo "$line $load |"
	done
}

# split_costs MODE...: each mode's fixed cost, its median wall time on (0)
# over bare, and its cost per exec on (b), what it adds to bare beyond
# the fixed cost, over the 2,000 execs.
split_costs() {
	echo "| mode | fixed (ms) | per exec on (b) (µs) |"
	echo "|---|---|---|"
	for m in "$@"; do
		[ "$m" = bare ] && continue
		awk -v m="$m" -v z="$(median 1 "$TOP/0-$m")" \
		    -v z0="$(median 1 "$TOP/0-bare")" \
		    -v b="$(median 1 "$TOP/b-$m")" \
		    -v b0="$(median 1 "$TOP/b-bare")" 'BEGIN {
			printf "| %s | %.1f | %d |\n", m, z - z0,
				((b - b0) - (z - z0)) * 1000 / 2000 }'
	done
}

# overhead_tables FOCUS MODE...: the wall and the CPU table, and the
# split of wall time into fixed and per-exec costs, in markdown, with
# the machine and the rounds above them.
overhead_tables() {
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
		head -n 1)
	echo "Machine: $(nproc) CPUs, $cpu, kernel $(uname -r);" \
		"$RUNS rounds, medians, times in ms."
	echo
	table 1 "wall" "$@"
	echo
	table 2 "CPU" "$@"
	echo
	shift
	split_costs "$@"
}
