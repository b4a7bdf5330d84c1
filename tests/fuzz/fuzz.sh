#!/bin/sh
# Build the libFuzzer targets with clang and run each for a bounded time
# on the seeds in tests/fuzz/corpus/NAME/: exchange JSON and model API
# bodies, event JSON, tree objects and chunk lists, and the index files
# of the open layout. Skips (77) without clang and its fuzzer runtime.
#
# RUNBUNDLE_FUZZ_SECONDS sets the time per target (default 10). A
# crash, leak or sanitizer report fails the test, and the log shows the
# input that caused it.
. "$TESTS_DIR/lib.sh"
command -v clang >/dev/null || skip "clang is missing"
seconds=${RUNBUNDLE_FUZZ_SECONDS:-10}
src=$SOURCE_DIR
out=$BUILD_DIR/fuzz
mkdir -p "$out"

cflags="-std=c17 -D_GNU_SOURCE -g -O1 -I$src -I$BUILD_DIR
	-fsanitize=address,undefined -fno-sanitize-recover=undefined"
libs="-lsqlite3 -lzstd -lcrypto -larchive -lcjson -lz -lbrotlidec -lpthread"
# Each library's error.c is generated into the build directory.
sources="$(ls "$src"/bundle/*.c) $BUILD_DIR/bundle/error.c $src/cli/util.c
	$BUILD_DIR/harness/error.c $src/harness/exchange.c
	$src/harness/exchange_json.c $src/harness/decode.c
	$src/harness/input_file.c $src/harness/json_integer.c
	$src/harness/json_bytes.c
	$BUILD_DIR/inspect/error.c $src/inspect/error_take.c
	$src/inspect/json.c $src/inspect/answer.c
	$src/inspect/describe.c $src/inspect/output.c $src/inspect/content.c
	$src/inspect/layout.c $src/inspect/view.c $src/inspect/archive_out.c $src/inspect/signals.c"

echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)
{ (void)d; (void)n; return 0; }' >"$TMP/probe.c"
# shellcheck disable=SC2086 # the flags are split on purpose
clang $cflags -fsanitize=fuzzer "$TMP/probe.c" -o "$TMP/probe" \
	2>/dev/null || skip "clang cannot link -fsanitize=fuzzer" \
	"(libclang-rt-14-dev is missing)"

# The library objects, rebuilt when their source is newer.
objects=""
for f in $sources; do
	o=$out/$(echo "${f#"$src"/}" | tr / _).o
	if [ ! -e "$o" ] || [ -n "$(find "$src" -name '*.[ch]' -newer "$o" \
	     -path "*/$(dirname "${f#"$src"/}")/*" | head -n 1)" ]; then
		# shellcheck disable=SC2086
		clang $cflags -fsanitize=fuzzer-no-link -c "$f" -o "$o.$$" ||
			fail "cannot compile '$f' with clang"
		mv -f "$o.$$" "$o"
	fi
	objects="$objects $o"
done

for name in exchange event tree layout; do
	# shellcheck disable=SC2086
	# Linked under a temporary name and renamed, so that another run of
	# this test can keep executing the previous binary.
	clang $cflags -fsanitize=fuzzer "$TESTS_DIR/fuzz/fuzz_$name.c" \
		$objects $libs -o "$out/fuzz_$name.$$" ||
		fail "cannot link fuzz_$name"
	mv -f "$out/fuzz_$name.$$" "$out/fuzz_$name"
	# The corpus in the repository stays as committed; new inputs go
	# to a copy.
	mkdir -p "$TMP/corpus/$name"
	cp "$TESTS_DIR/fuzz/corpus/$name"/* "$TMP/corpus/$name/"
	echo "fuzz_$name: $seconds s"
	"$out/fuzz_$name" -max_total_time="$seconds" -rss_limit_mb=1024 \
		-max_len=65536 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$TMP/" "$TMP/corpus/$name" \
		>"$TMP/fuzz_$name.log" 2>&1 || {
		tail -n 60 "$TMP/fuzz_$name.log" >&2
		for a in "$TMP"/crash-* "$TMP"/leak-* "$TMP"/timeout-* \
			"$TMP"/oom-*; do
			[ -e "$a" ] || continue
			echo "input: $a" >&2
			od -c "$a" | head -n 20 >&2
		done
		fail "fuzz_$name found a problem"
	}
	grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' \
		"$TMP/fuzz_$name.log" | tail -n 1
done
