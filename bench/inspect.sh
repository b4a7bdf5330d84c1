#!/bin/sh
# Benchmark the reading commands on a two-step bundle of a source tree,
# against the tools a user would otherwise run on checked-out trees.
#
# usage: bench/inspect.sh [RUNBUNDLE] [SOURCE]
#
# RUNBUNDLE defaults to build/runbundle and SOURCE to /usr/include. The
# second step changes 200 files, deletes 50 and adds 50. Each time is
# the median wall time of 5 runs in milliseconds, with the page cache
# warm, printed as a Markdown table for docs/benchmarks.md. Needs git,
# diffutils and tar; everything runs in one scratch directory under
# ${TMPDIR:-/tmp}, removed at the end.
set -eu

rb=$(realpath "${1:-build/runbundle}")
src=${2:-/usr/include}
. "$(dirname "$0")/lib.sh"
bench_require git diff tar
work=$(mktemp -d "${TMPDIR:-/tmp}/rb-inspect-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

cp -a "$src" "$work/old"
"$rb" snapshot "$work/b.rb" "$work/old" >/dev/null
cp -a "$work/old" "$work/new"
find "$work/new" -type f -name '*.h' | sort | head -n 300 >"$work/list"
head -n 200 "$work/list" | while read -r f; do
	echo '/* changed */' >>"$f"
done
sed -n '201,250p' "$work/list" | while read -r f; do rm "$f"; done
for i in $(seq 50); do
	printf 'int added_%d;\n' "$i" >"$work/new/added_$i.h"
done
"$rb" snapshot --finalize "$work/b.rb" "$work/new" >/dev/null
files=$(find "$work/new" -type f | wc -l)
size=$(du -sm "$work/new" | cut -f1)

# median_ms COMMAND...: the median wall time of 5 runs, in ms.
median_ms() {
	for i in 1 2 3 4 5; do
		rm -rf "$work/out" "$work/out.tar" "$work/i.rb" \
			"$work/e.tar.zst.x"
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000000))
	done | sort -n | sed -n 3p
}

"$rb" export-bundle -o "$work/e.tar.zst" "$work/b.rb" >/dev/null
rb_patch=$(median_ms "$rb" patch "$work/b.rb")
git_diff=$(median_ms git -C "$work" diff --no-index --no-renames old new)
diff_ru=$(median_ms diff -ruN "$work/old" "$work/new")
rb_tar=$(median_ms "$rb" export --format tar -o "$work/out.tar" "$work/b.rb")
tar_cf=$(median_ms tar -cf "$work/out.tar" -C "$work/new" .)
rb_dir=$(median_ms "$rb" export --format dir -o "$work/out" "$work/b.rb")
cp_a=$(median_ms cp -a "$work/new" "$work/out")
rb_inspect=$(median_ms "$rb" inspect "$work/b.rb")
rb_log=$(median_ms "$rb" log "$work/b.rb")
rb_log_verify=$(median_ms "$rb" log --verify "$work/b.rb")
rb_eb=$(median_ms sh -c "rm -f '$work/x.tar.zst'; \
'$rb' export-bundle -o '$work/x.tar.zst' '$work/b.rb'")
rb_import=$(median_ms "$rb" import -o "$work/i.rb" "$work/e.tar.zst")

echo "Tree: $src, $files files, $size MB; 200 changed, 50 deleted, 50 added."
echo
echo "| Task | runbundle (ms) | peer | peer (ms) | ratio |"
echo "|---|---|---|---|---|"
row() {
	echo "| $1 | $2 | $3 | $4 |" \
		"$(awk "BEGIN { printf \"%.2f\", $2 / ($4 > 0 ? $4 : 1) }") |"
}
row "diff of the two steps" "$rb_patch" "git diff --no-index" "$git_diff"
row "diff of the two steps" "$rb_patch" "diff -ruN" "$diff_ru"
row "workspace as tar" "$rb_tar" "tar -cf of the tree" "$tar_cf"
row "workspace as a directory" "$rb_dir" "cp -a of the tree" "$cp_a"
echo
echo "| Task | runbundle (ms) |"
echo "|---|---|"
echo "| inspect | $rb_inspect |"
echo "| log | $rb_log |"
echo "| log --verify | $rb_log_verify |"
echo "| export-bundle | $rb_eb |"
echo "| import | $rb_import |"
