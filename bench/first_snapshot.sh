#!/bin/sh
# first_snapshot.sh - the first snapshot of a tree into a fresh bundle
# against tar with zstd at the same level, in interleaved rounds.
#
# usage: bench/first_snapshot.sh [RUNBUNDLE] [ROUNDS] [SOURCE...]
#
# RUNBUNDLE defaults to build/runbundle, ROUNDS to 11, and the sources
# to /usr/include and /usr/lib/python3.11, copied once to a scratch
# directory under ${TMPDIR:-/tmp} that is removed at the end. Each round
# runs `runbundle snapshot` and `tar -I 'zstd -3'` once, so that other
# work on the machine weighs on both alike. Prints a Markdown table of
# the median and the least wall and CPU time (user plus system) of each,
# with the page cache warm, and the load average around the rounds.
set -eu

. "$(dirname "$0")/lib.sh"
RB=${1:-build/runbundle}
rounds=${2:-11}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- /usr/include /usr/lib/python3.11
bench_require tar zstd
bench_runbundle

work=$(mktemp -d "${TMPDIR:-/tmp}/rb-first-snapshot.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir "$work/src"
for dir; do
	cp -a "$dir" "$work/src/"
done
# Warm the page cache.
tar -cf - -C "$work/src" . | cat >/dev/null

# run FILE SCRIPT: run the script quietly and append "WALL CPU" in
# milliseconds to FILE.
run() {
	/usr/bin/time -o "$work/time" -f '%e %U %S' sh -c "$2" >/dev/null \
		2>&1 || true
	tail -n 1 "$work/time" |
		awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' >>"$1"
}

# pick FILE median|least: "WALL CPU" of the runs in FILE, each column
# sorted apart.
pick() {
	for col in 1 2; do
		cut -d' ' -f$col "$1" | sort -n |
			awk -v stat="$2" '{ v[NR] = $1 }
			END { print stat == "least" ? v[1] : \
				v[int((NR + 1) / 2)] }'
	done | paste -sd' '
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq "$rounds"); do
	rm -f "$work/b.rb" "$work/b.rb-wal" "$work/b.rb-shm" "$work/t.tar.zst"
	run "$work/t.rb" "'$RB' snapshot '$work/b.rb' '$work/src'"
	run "$work/t.tar" "tar -I 'zstd -3' -cf '$work/t.tar.zst' \
		-C '$work/src' ."
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
s_rb=$(du -sbc "$work"/b.rb* | tail -n 1 | cut -f1)
s_tar=$(stat -c %s "$work/t.tar.zst")

echo "Source: $* ($(find "$work/src" -type f | wc -l) files," \
	"$(du -sb "$work/src" | cut -f1) bytes), $(nproc) cores;" \
	"$rounds interleaved rounds; load average $load_before before" \
	"and $load_after after."
echo
echo "| first snapshot | | wall ms | CPU ms | bytes | wall / tar |" \
	"CPU / tar | size / tar |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for which in median least; do
	tar_t=$(pick "$work/t.tar" $which)
	for tool in rb tar; do
		t=$(pick "$work/t.$tool" $which)
		if [ $tool = rb ]; then
			name="runbundle snapshot" size=$s_rb
		else
			name="tar -I 'zstd -3'" size=$s_tar
		fi
		echo "| $name | $which | ${t% *} | ${t#* } | $size |" \
			"$(ratio "${t% *}" "${tar_t% *}") |" \
			"$(ratio "${t#* }" "${tar_t#* }") |" \
			"$(ratio "$size" "$s_tar") |"
	done
done
