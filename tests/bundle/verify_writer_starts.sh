#!/bin/sh
# A verify of a bundle at rest, which reads it without locks, while a
# snapshot appends to it. A preloaded library stops verify once it has
# read the first page, and the snapshot then writes the bundle whole.
# verify must not report the pages that changed under it as damage, and
# the other readers, which do not read again, must name the writer, not
# damage.
. "$TESTS_DIR/lib.sh"
PRELOAD=$1
# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws" "$TMP/ws2"
random_files "$TMP/ws" f 300 20000
random_files "$TMP/ws2" g 300 20000
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws"

WAL_STOP=page LD_PRELOAD=$PRELOAD "$RUNBUNDLE" verify --allow-incomplete \
	"$TMP/b.rb" >"$TMP/verify.out" 2>"$TMP/verify.err" &
verify=$!
wait_stopped "$verify" "verify did not stop"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws2"
kill -CONT "$verify"
wait_status "$verify"
[ "$status" = 0 ] || cat "$TMP/verify.out" "$TMP/verify.err" >&2
expect_eq 0 "$status" "verify's status"
expect_grep 'OK: .* 2 events' "$TMP/verify.out"

# stopped_read NAME COMMAND...: run runbundle COMMAND on a new bundle
# of one snapshot, stopped at its first page while a snapshot appends.
stopped_read() {
	name=$1
	shift
	rm -f "$TMP/b.rb"
	expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws"
	WAL_STOP=page LD_PRELOAD=$PRELOAD "$RUNBUNDLE" "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	reader=$!
	wait_stopped "$reader" "$name did not stop"
	expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws2"
	kill -CONT "$reader"
	wait_status "$reader"
	if grep -q "malformed" "$TMP/$name.err"; then
		cat "$TMP/$name.err" >&2
		fail "$name reported the writer's pages as damage"
	fi
}

stopped_read export export --allow-incomplete --format tar \
	-o "$TMP/x.tar" "$TMP/b.rb"
if [ "$status" != 0 ]; then
	expect_grep "^runbundle: cannot read bundle: '$TMP/b.rb': another \
process wrote it while it was read\$" "$TMP/export.err"
	expect_grep "^hint: run the command again" "$TMP/export.err"
fi

stopped_read inspect inspect --allow-incomplete "$TMP/b.rb"
if [ "$status" != 0 ]; then
	expect_grep "another process wrote it while it was read\$" \
		"$TMP/inspect.err"
	expect_grep "^hint: another process wrote the bundle while it was \
read" "$TMP/inspect.err"
fi
exit 0
