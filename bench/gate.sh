#!/bin/sh
# Benchmark gate, apply and report on a large workspace, against
# runbundle verify (which gate and apply run first) and git apply of the
# same change.
#
# usage: bench/gate.sh [RUNBUNDLE] [SOURCE]
#
# RUNBUNDLE defaults to build/runbundle and SOURCE to /usr/include. The
# run changes one file in 100 of SOURCE and prints one Markdown table
# for docs/benchmarks.md: milliseconds of wall time, the least of 5 runs,
# with the page cache warm. Needs git and /usr/bin/time.
set -eu

rb=$(realpath "${1:-build/runbundle}")
src=${2:-/usr/include}
. "$(dirname "$0")/lib.sh"
bench_require git /usr/bin/time

work=$(mktemp -d "${TMPDIR:-/tmp}/rb-gate-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
cp -a "$src" "$work/ws"
"$rb" snapshot "$work/b.rb" "$work/ws" >/dev/null
cp -a "$work/ws" "$work/initial"
find "$work/ws" -type f | sort | awk 'NR % 100 == 0' | while read -r f; do
	echo "/* changed */" >>"$f"
done
"$rb" snapshot --finalize "$work/b.rb" "$work/ws" >/dev/null
"$rb" patch "$work/b.rb" >"$work/change.patch" 2>/dev/null || true
files=$(find "$work/ws" -type f | wc -l)
changed=$("$rb" apply --json --dry-run --to "$work/initial" "$work/b.rb" |
	grep -c '"change"')

# best CMD...: the least wall time of 5 runs, in milliseconds. A command
# that changes its target gets a fresh copy of the initial tree each run,
# and report, which never replaces a file, no page from the run before.
best() {
	least=
	for i in 1 2 3 4 5; do
		rm -rf "$work/target" "$work/r.html"
		cp -a "$work/initial" "$work/target"
		/usr/bin/time -f %e -o "$work/t" "$@" >/dev/null 2>&1 || true
		ms=$(tail -n 1 "$work/t" | awk '{ printf "%d", $1 * 1000 }')
		if [ -z "$least" ] || [ "$ms" -lt "$least" ]; then
			least=$ms
		fi
	done
	echo "$least"
}

verify=$(best "$rb" verify "$work/b.rb")
gate=$(best "$rb" gate "$work/b.rb")
dry=$(best "$rb" apply --dry-run --to "$work/target" "$work/b.rb")
apply=$(best "$rb" apply --to "$work/target" "$work/b.rb")
gitapply=$(best git -C "$work/target" apply "$work/change.patch")
report=$(best "$rb" report -o "$work/r.html" "$work/b.rb")

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b;
		else printf "-" }'
}

echo "$files files, $changed changed, bundle $(du -k "$work/b.rb" |
	cut -f1) KiB, report $(du -k "$work/r.html" | cut -f1) KiB"
echo
echo "| Command | ms | Ratio |"
echo "|---|---|---|"
echo "| runbundle verify | $verify | 1.00 (verify) |"
echo "| runbundle gate | $gate | $(ratio "$gate" "$verify") (verify) |"
echo "| runbundle apply --dry-run | $dry | $(ratio "$dry" "$verify") (verify) |"
echo "| git apply | $gitapply | 1.00 (git apply) |"
echo "| runbundle apply | $apply | $(ratio "$apply" "$gitapply") (git apply) |"
echo "| runbundle report | $report | $(ratio "$report" "$verify") (verify) |"
