#!/bin/sh
# chunking.sh - measure the zstd level and the average chunk size that
# the bundle store uses by default. Run by hand from the source tree:
#
#	bench/chunking.sh BUILD_DIR [WORK_DIR]
#
# Part 1 stores one tar of /usr/include and the Python standard library
# at several zstd levels and prints time and size next to `zstd -LEVEL`
# on the same tar. Part 2 stores that tar and 10 edited copies (each
# with 20 more small insertions at random offsets, as a file edited over
# time) at several average chunk sizes, and prints time, bundle size and
# object count. Results go in docs/benchmarks.md.
set -eu

build=${1:?usage: bench/chunking.sh BUILD_DIR [WORK_DIR]}
work=${2:-$(mktemp -d /tmp/chunking.XXXXXX)}
bench=$build/bench/store_bench
[ -x "$bench" ] || { echo "chunking.sh: '$bench' not built" >&2; exit 1; }
mkdir -p "$work"

tar -cf "$work/corpus.tar" -C / usr/include usr/lib/python3.11 2>/dev/null
bytes=$(stat -c %s "$work/corpus.tar")
echo "corpus: $bytes bytes ($(nproc) cores, $(uname -r))"

echo
echo "level  store_s  bundle_bytes  ratio  zstd_s  zstd_bytes"
for level in 1 3 6 9; do
	rm -f "$work/level.rb"
	set -- $("$bench" "$level" 0 "$work/level.rb" "$work/corpus.tar")
	start=$(date +%s.%N)
	zstd -q -"$level" -f -o "$work/corpus.tar.zst" "$work/corpus.tar"
	end=$(date +%s.%N)
	zbytes=$(stat -c %s "$work/corpus.tar.zst")
	printf '%5d  %7.2f  %12d  %5.3f  %6.2f  %10d\n' "$level" "$1" "$3" \
		"$(echo "$3 / $bytes" | bc -l)" \
		"$(echo "$end - $start" | bc -l)" "$zbytes"
done

# Ten edited versions, each from the one before.
/usr/bin/python3 - "$work" <<'PY'
import os, random, sys
work = sys.argv[1]
random.seed(1)
data = bytearray(open(os.path.join(work, "corpus.tar"), "rb").read())
for v in range(1, 11):
    for _ in range(20):
        at = random.randrange(len(data))
        data[at:at] = os.urandom(random.randint(1, 100))
    open(os.path.join(work, "v%02d.tar" % v), "wb").write(data)
PY

echo
echo "chunk_avg  store_s  bundle_bytes  objects  added_per_version"
for avg in 16384 65536 262144 1048576; do
	rm -f "$work/base.rb" "$work/chunk.rb"
	set -- $("$bench" 3 "$avg" "$work/base.rb" "$work/corpus.tar")
	base=$3
	set -- $("$bench" 3 "$avg" "$work/chunk.rb" "$work/corpus.tar" \
		"$work"/v*.tar)
	objects=$(sqlite3 -readonly "$work/chunk.rb" \
		"SELECT count(*) FROM objects")
	printf '%9d  %7.2f  %12d  %7d  %17d\n' "$avg" "$1" "$3" "$objects" \
		"$(( ($3 - base) / 10 ))"
done
[ -n "${2:-}" ] || rm -rf "$work"
