#!/bin/sh
# Benchmark snapshots against tar with zstd, git, restic and borg.
#
# usage: bench/snapshot.sh [RUNBUNDLE] [SOURCE...]
#
# RUNBUNDLE defaults to build/runbundle; the sources default to
# /usr/include and /usr/lib/python3.11. Everything runs in one scratch
# directory under ${TMPDIR:-/tmp}, removed at the end, and prints
# Markdown tables for docs/benchmarks.md. Times are milliseconds of one
# run each (for no change, the run of 5 with the least wall time, and
# for 50,000 files the median and the least of 15 interleaved rounds),
# with the page cache warm; CPU time is user plus system. Needs tar, zstd,
# git, restic, borg, sqlite3 and /usr/bin/python3.
set -eu

rb=$(realpath "${1:-build/runbundle}")
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- /usr/include /usr/lib/python3.11
for tool in tar zstd git restic borg sqlite3 /usr/bin/python3; do
	command -v "$tool" >/dev/null || {
		echo "bench/snapshot.sh: missing tool: '$tool'" >&2
		exit 1
	}
done

work=$(mktemp -d "${TMPDIR:-/tmp}/rb-snapshot-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
src=$work/src
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$work/restic-cache
export BORG_PASSPHRASE='' BORG_BASE_DIR=$work/borg-base
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost

# A private copy, so the change rounds can edit it; cp -a keeps the
# mtimes, so no file is in the stat cache's racy window.
mkdir -p "$src"
for dir; do
	cp -a "$dir" "$src/"
done
tar -cf - -C "$src" . >/dev/null

# ms SCRIPT: run the shell script quietly and print "WALL CPU": its wall
# time and its user plus system time (children included), in
# milliseconds. CPU time matters because other work on the machine
# stretches wall time.
ms() {
	/usr/bin/time -o "$work/time" -f '%e %U %S' sh -c "$1" >/dev/null \
		2>&1 || true
	awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$work/time"
}

# best5 SCRIPT: the run of five with the lowest wall time.
best5() {
	best=
	for _ in 1 2 3 4 5; do
		t=$(ms "$1")
		if [ -z "$best" ] || [ "${t% *}" -lt "${best% *}" ]; then
			best=$t
		fi
	done
	echo "$best"
}

# row NAME "WALL CPU" BYTES "BASE-WALL BASE-CPU" BASE-BYTES
row() {
	set -- "$1" "${2% *}" "${2#* }" "$3" "${4% *}" "${4#* }" "$5"
	echo "| $1 | $2 | $3 | $4 | $(ratio "$2" "$5") | $(ratio "$3" "$6") |" \
		"$(ratio "$4" "$7") |"
}

# time_row NAME "WALL CPU" "BASE-WALL BASE-CPU"
time_row() {
	set -- "$1" "${2% *}" "${2#* }" "${3% *}" "${3#* }"
	echo "| $1 | $2 | $3 | $(ratio "$2" "$4") | $(ratio "$3" "$5") |"
}

bytes() {
	du -sb "$@" | awk '{ n += $1 } END { print n }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'
}

bundle_size() {
	bytes "$work/b.rb" $(ls "$work"/b.rb-wal 2>/dev/null)
}

files=$(find "$src" -type f | wc -l)
total=$(bytes "$src")
echo "Source: $* ($files files, $total bytes in du -sb)"
echo

# First snapshot.
git init -q "$work/git"
# No automatic repacking, so .git grows by what each commit adds.
git --git-dir="$work/git/.git" config gc.auto 0
restic init -q --repo "$work/restic" >/dev/null
borg init -e none "$work/borg" >/dev/null 2>&1
git="git --git-dir='$work/git/.git' --work-tree='$src'"
commit="$git add -A && $git commit -q -m snapshot"
backup="restic backup -q --repo '$work/restic' '$src'"
create="borg create --compression zstd,3 '$work/borg::'"

t_rb=$(ms "'$rb' snapshot '$work/b.rb' '$src'")
s_rb=$(bundle_size)
t_tar=$(ms "tar -I 'zstd -3' -cf '$work/t.tar.zst' -C '$src' .")
s_tar=$(bytes "$work/t.tar.zst")
t_git=$(ms "$commit")
s_git=$(bytes "$work/git/.git")
t_restic=$(ms "$backup")
s_restic=$(bytes "$work/restic")
t_borg=$(ms "${create}first '$src'")
s_borg=$(bytes "$work/borg")

echo "| first snapshot | wall ms | CPU ms | bytes | wall / tar |" \
	"CPU / tar | size / tar |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row "runbundle snapshot" "$t_rb" "$s_rb" "$t_tar" "$s_tar"
row "tar -I 'zstd -3'" "$t_tar" "$s_tar" "$t_tar" "$s_tar"
row "git add -A && git commit" "$t_git" "$s_git" "$t_tar" "$s_tar"
row "restic backup" "$t_restic" "$s_restic" "$t_tar" "$s_tar"
row "borg create --compression zstd,3" "$t_borg" "$s_borg" "$t_tar" "$s_tar"
echo

# No change.
n_rb=$(best5 "'$rb' snapshot '$work/b.rb' '$src'")
n_git=$(best5 "$git status --porcelain")
n_restic=$(ms "$backup")
n_borg=$(ms "${create}again '$src'")
echo "| no-change re-snapshot | wall ms | CPU ms | wall / git | CPU / git |"
echo "|---|---:|---:|---:|---:|"
time_row "runbundle snapshot (best of 5)" "$n_rb" "$n_git"
time_row "git status --porcelain (best of 5)" "$n_git" "$n_git"
time_row "restic backup" "$n_restic" "$n_git"
time_row "borg create" "$n_borg" "$n_git"
echo

# 20 rounds, each appending 100 bytes to 1% of the files.
sql() { sqlite3 "$work/b.rb" "$1"; }
tree_bytes() { sql "SELECT coalesce(sum(length(data)), 0) FROM objects
	WHERE kind = 'tree'"; }
all_bytes() { sql "SELECT coalesce(sum(length(data)), 0) FROM objects"; }
rb_base=$(bundle_size)
git_base=$(bytes "$work/git/.git")
tree_base=$(tree_bytes)
data_base=$(all_bytes)
appended=0 changed_files=0 changed_size=0 t_rounds=0
for round in $(seq 1 20); do
	out=$(/usr/bin/python3 - "$src" "$round" <<'PY'
import os, random, sys
root, seed = sys.argv[1], int(sys.argv[2])
paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root)
               for f in fs if os.path.isfile(os.path.join(d, f))
               and not os.path.islink(os.path.join(d, f)))
rng = random.Random(seed)
picked = rng.sample(paths, max(1, len(paths) // 100))
size = 0
for p in picked:
    with open(p, "ab") as f:
        f.write(rng.randbytes(50).hex().encode())
    size += os.path.getsize(p)
print(len(picked), len(picked) * 100, size)
PY
)
	set -- $out
	changed_files=$((changed_files + $1))
	appended=$((appended + $2))
	changed_size=$((changed_size + $3))
	# Out of the racy window of the previous round's snapshot.
	sleep 2
	t=$(ms "'$rb' snapshot '$work/b.rb' '$src'")
	t_rounds=$((t_rounds + ${t% *}))
	sh -c "$commit" >/dev/null 2>&1
done
rb_grow=$(($(bundle_size) - rb_base))
git_grow=$(($(bytes "$work/git/.git") - git_base))
tree_grow=$(($(tree_bytes) - tree_base))
data_grow=$(($(all_bytes) - data_base))
echo "20 rounds, $changed_files files changed in all, $appended bytes"
echo "appended, $changed_size bytes in the changed files after the change."
echo
echo "| 20 rounds of 1% | bytes | / appended | / changed files |"
echo "|---|---:|---:|---:|"
# growth_row NAME BYTES: one row, with BYTES over the appended bytes and
# over the size of the changed files.
growth_row() {
	echo "| $1 | $2 | $(ratio "$2" "$appended") |" \
		"$(ratio "$2" "$changed_size") |"
}
growth_row "runbundle: bundle file growth" "$rb_grow"
growth_row "runbundle: new object data" "$data_grow"
growth_row "runbundle: of that, trees" "$tree_grow"
growth_row "git: .git growth" "$git_grow"
echo
echo "Mean time of one round's snapshot: $((t_rounds / 20)) ms."
echo

# 50,000 small files in 500 directories, with mtimes an hour old.
big=$work/files50k
/usr/bin/python3 - "$big" <<'PY'
import os, sys, time
root = sys.argv[1]
old = time.time() - 3600
for d in range(500):
    path = os.path.join(root, "d%02d" % (d // 50), "s%03d" % d)
    os.makedirs(path, exist_ok=True)
    for f in range(100):
        name = os.path.join(path, "file%03d.txt" % f)
        with open(name, "w") as fh:
            fh.write(("%d %d\n" % (d, f)) * (f % 7 + 1))
        os.utime(name, (old, old))
PY
"$rb" snapshot "$work/c.rb" "$big" >/dev/null
git50="git --git-dir='$work/git50/.git' --work-tree='$big'"
git init -q "$work/git50"
# No automatic gc: 50,000 loose objects make the commit start one in the
# background, which took a core from the first rounds below.
git --git-dir="$work/git50/.git" config gc.auto 0
sh -c "$git50 add -A && $git50 commit -q -m s"
mkdir "$work/empty"
"$rb" snapshot "$work/e.rb" "$work/empty" >/dev/null

# ns_ms SCRIPT: like ms, but the wall time from a nanosecond clock, since
# these runs take tens of milliseconds and time(1) counts hundredths.
ns_ms() {
	start=$(date +%s%N)
	/usr/bin/time -o "$work/time" -f '%U %S' sh -c "$1" >/dev/null \
		2>&1 || true
	end=$(date +%s%N)
	awk -v ns=$((end - start)) \
		'{ printf "%d %d\n", ns / 1000000, ($1 + $2) * 1000 }' \
		"$work/time"
}

# 15 rounds of the three, interleaved so that other load on the machine
# falls on all of them alike. The tables give the median and the least
# of each, with the wall and CPU columns sorted apart.
rounds=15
for _ in $(seq $rounds); do
	ns_ms "'$rb' snapshot '$work/c.rb' '$big'" >>"$work/t.rb"
	ns_ms "$git50 status --porcelain" >>"$work/t.git"
	ns_ms "'$rb' snapshot '$work/e.rb' '$work/empty'" >>"$work/t.empty"
done
# pick FILE median|least: "WALL CPU" of the runs in FILE.
pick() {
	for col in 1 2; do
		cut -d' ' -f$col "$1" | sort -n |
			awk -v statistic="$2" '{ v[NR] = $1 } END {
				i = statistic == "least" ? 1 : int((NR + 1) / 2)
				print v[i] }'
	done | paste -sd' '
}
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "No change, 50,000 files in 500 directories: $rounds interleaved"
echo "rounds, load average $load before them."
echo
echo "| no change, 50,000 files | wall ms | CPU ms | wall / git | CPU / git |"
echo "|---|---:|---:|---:|---:|"
for statistic in median least; do
	git_t=$(pick "$work/t.git" $statistic)
	time_row "runbundle snapshot ($statistic)" \
		"$(pick "$work/t.rb" $statistic)" "$git_t"
	time_row "git status --porcelain ($statistic)" "$git_t" "$git_t"
	time_row "runbundle snapshot, empty directory ($statistic)" \
		"$(pick "$work/t.empty" $statistic)" "$git_t"
done
