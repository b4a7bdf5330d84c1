#!/bin/sh
# input_special.sh - every option that reads a file the user names (a
# policy, gate rules, a fingerprint, recorded exchanges, an archive to
# import) rejects a FIFO and a device at once as "not a regular file".
. "$TESTS_DIR/lib.sh"

mkfifo "$TMP/fifo"
mkdir "$TMP/ws"
cd "$TMP/ws"

# rejected STATUS WHAT FILE COMMAND...: the command, with FILE given to
# it, fails with STATUS and names FILE as not a regular file. No writer
# ever opens the FIFO, so a blocking open would hang until timeout ends
# it with status 124.
rejected() {
	_status=$1 _what=$2 _file=$3
	shift 3
	expect_status "$_status" timeout -s KILL 20 "$RUNBUNDLE" "$@"
	expect_eq "runbundle: $_what: '$_file': not a regular file" \
		"$(head -n 1 "$TMP/err")" "$*"
}

for f in "$TMP/fifo" /dev/zero; do
	# The sandbox command reports its setup failures with 125.
	rejected 125 "cannot read policy" "$f" \
		sandbox --policy "$f" -- true
	rejected 3 "cannot read policy" "$f" \
		record -o "$TMP/x.rb" --policy "$f" -- true
	[ ! -e "$TMP/x.rb" ] || fail "record left a bundle for $f"
	rejected 3 "cannot read rules" "$f" \
		gate --rules "$f" "$TMP/none.rb"
	rejected 3 "cannot open fingerprint" "$f" \
		fingerprint --compare "$f"
	rejected 3 "cannot open exchanges" "$f" gateway --replay "$f"
	rejected 3 "cannot read archive" "$f" import -o "$TMP/i.rb" "$f"
	[ ! -e "$TMP/i.rb" ] || fail "import left a bundle for $f"
done
[ -p "$TMP/fifo" ] || fail "the FIFO was replaced"
exit 0
