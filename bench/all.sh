#!/bin/sh
# bench/all.sh - every benchmark of bench/, one after another, in one
# sitting, with the machine and its load written beside each table.
#
# usage: bench/all.sh [OUT] [QUICK]
#
# Builds an optimized runbundle in build-bench (no tests), then runs
# each bench script with the round counts given below and writes their
# markdown to OUT (default bench-results.md) and to standard output.
# The tables of docs/benchmarks.md come from one run of this script on
# a machine with nothing else running: the load average is printed
# before every section so that a reader can tell.
#
# QUICK=1 runs every script with the fewest rounds that still produce
# a table, to check the scripts themselves; its numbers mean nothing.
# Needs the peers that `scripts/setup --bench` installs.
set -eu

cd "$(dirname "$0")/.."
OUT=${1:-bench-results.md}
QUICK=${2:-0}
BUILD=build-bench
RB=$PWD/$BUILD/runbundle

rounds() {
	if [ "$QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi
}

build() {
	if [ ! -d "$BUILD" ]; then
		meson setup "$BUILD" --buildtype=release -Dtests=false \
			>/dev/null
	fi
	ninja -C "$BUILD" >/dev/null
}

versions() {
	for cmd in "tar --version" "zstd --version" "git --version" \
		   "restic version" "borg --version" "bwrap --version" \
		   "unshare --version" "strace --version" "wrk --version" \
		   "python3 --version" "node --version"; do
		set -- $cmd
		v=$($cmd 2>&1 | head -n 1) || v="not installed"
		echo "- $1: $v"
	done
}

machine() {
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
		head -n 1)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
		/proc/meminfo)
	. /etc/os-release
	echo "# Benchmark run"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- commit: $(git rev-parse --short HEAD)"
	echo "- CPU: $cpu, $(nproc) cores; memory: $mem"
	echo "- system: $PRETTY_NAME, kernel $(uname -r), $(uname -m)"
	echo "- runbundle: $("$RB" --version), $BUILD (release)"
	versions
}

# Run COMMAND as one section titled TITLE, with the load around it.
section() {
	title=$1
	shift
	echo
	echo "## $title"
	echo
	echo "\`$*\`; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	start=$(date +%s)
	if ! "$@" 2>&1; then
		echo
		echo "(this benchmark failed; its output is above)"
	fi
	echo
	echo "Took $(($(date +%s) - start)) s; load average after:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)."
}

# Run the sandbox bench as the test suite's unprivileged user, when
# there is one, because ordinary users are the ones who replay bundles.
sandbox_unpriv() {
	if [ "$(id -u)" -ne 0 ] || ! id rbtest >/dev/null 2>&1; then
		echo "(no unprivileged user rbtest: skipped)"
		return 0
	fi
	setpriv --reuid=rbtest --regid=rbtest --init-groups \
		sh bench/sandbox.sh "$BUILD" "$1"
}

all() {
	machine
	section "Bundle store: snapshots" \
		sh bench/snapshot.sh "$RB"
	section "Bundle store: first snapshot against tar, interleaved" \
		sh bench/first_snapshot.sh "$RB" "$(rounds 2 11)"
	section "Bundle store: zstd level and chunk size" \
		sh bench/chunking.sh "$BUILD"
	section "Sandbox, as root" \
		sh bench/sandbox.sh "$BUILD" "$(rounds 5 100)"
	section "Sandbox, as the unprivileged user" \
		sandbox_unpriv "$(rounds 5 100)"
	section "Model gateway" sh bench/gateway.sh "$RB"
	section "Request matching" sh bench/match.sh "$BUILD"
	section "Process tracer" sh bench/trace.sh "$RB" "$(rounds 1 3)"
	section "Recording" sh bench/record.sh "$RB" "$(rounds 1 3)"
	section "Replay" sh bench/replay.sh "$RB" "$(rounds 20 500)" \
		"$(rounds 1 3)"
	section "Reading commands" sh bench/inspect.sh "$RB"
	section "Gate, apply and report" sh bench/gate.sh "$RB"
	section "Syscall filter" "$BUILD/bench/seccomp_bench"
	section "Egress proxy" "$BUILD/bench/proxy_bench"
}

build
all | tee "$OUT"
