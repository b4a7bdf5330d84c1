#!/bin/sh
# A checkout onto a name that exists and is not a directory, such as a
# file, a symlink to one, or a FIFO, fails with that reason, with or
# without --force, and leaves the file as it was.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/src"
echo a >"$TMP/src/a"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/src"
echo keep >"$TMP/file"
echo keep >"$TMP/exec"
chmod 755 "$TMP/exec"
ln -s file "$TMP/link"
mkfifo "$TMP/fifo"

for name in file exec link fifo; do
	for force in '' --force; do
		expect_status 3 "$RUNBUNDLE" checkout $force "$TMP/b.rb" \
			latest "$TMP/$name"
		expect_eq "runbundle: cannot check out into directory: \
'$TMP/$name': it exists and is not a directory" "$(head -n 1 "$TMP/err")" \
			"the error of checkout $force onto $name"
		expect_grep '^hint: name a directory, or a new one' "$TMP/err"
	done
done
expect_status 3 "$RUNBUNDLE" export --format dir -o "$TMP/file" "$TMP/b.rb"
expect_grep "'$TMP/file': it exists and is not a directory" "$TMP/err"
expect_eq keep "$(cat "$TMP/file")" "the file's content"
expect_eq keep "$(cat "$TMP/exec")" "the executable's content"
exit 0
