#!/bin/sh
# A recording in a workspace deeper than PATH_MAX: the changed paths of
# a workspace event, and the warnings about unreadable files, name each
# file whole, so that files whose paths differ only past the first
# 4096 bytes stay apart.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# The agent changes two files and adds a third at the bottom of a
# 10,000-byte path, through descriptors as deep_tree (lib.sh) does.
AGENT='import os
fd = os.open(".", os.O_RDONLY)
for i in range(40):
    fd = os.open("%03d" % i + "d" * 252, os.O_RDONLY, dir_fd=fd)
for name in (".git/hooks/pre-commit", "deep.txt", "new.txt"):
    f = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(f, b"two\n")
    os.close(f)'

deep_tree "$TMP/ws" 40 ".git/hooks/pre-commit=one
" "deep.txt=one
"
deep=$(deep_path 40)
cd "$TMP/ws"
record "$TMP/a.rb" -- /usr/bin/python3 -c "$AGENT"
expect_recorded 0
expect_eq "M $deep/.git/hooks/pre-commit
M $deep/deep.txt
A $deep/new.txt" \
	"$(last_data "$TMP/a.rb" workspace '.changes.paths[] | join(" ")')" \
	"the changed paths of the final workspace event"

# 120 new files of 10,000-byte paths pass the event's 1 MiB of listed
# paths: the list stops at a whole path and is marked truncated.
record "$TMP/b.rb" -- /usr/bin/python3 -c "${AGENT%%for name in*}
for n in range(120):
    os.close(os.open(\"f%03d\" % n, os.O_WRONLY | os.O_CREAT, 0o644,
                     dir_fd=fd))"
expect_recorded 0
last_data "$TMP/b.rb" workspace .changes >"$TMP/changes"
expect_eq "120 true" "$(jq -r '"\(.added) \(.truncated)"' "$TMP/changes")" \
	"the count of the added files"
listed=$(jq '.paths | length' "$TMP/changes")
[ "$listed" -gt 90 ] && [ "$listed" -lt 120 ] ||
	fail "expected 91 to 119 paths listed, got $listed"
expect_eq "$deep/f$(printf %03d $((listed - 1)))" \
	"$(jq -r '.paths[-1][1]' "$TMP/changes")" "the last path listed"

# Two unreadable files whose paths share their first 4,600 bytes get a
# warning each, because the warnings are deduplicated by the whole path.
unpriv_setup
mkdir "$TMP/u"
deep_tree "$TMP/u" 18 ".git/hooks/pre-commit=one
" "deep.txt=one
" a:0= b:0=
u=$(deep_path 18)
chmod 777 "$TMP"
cd "$TMP/u"
set +e
as_user "$UNPRIV_RUNBUNDLE" record -o "$TMP/u.rb" -- /bin/true \
	>"$TMP/out" 2>"$TMP/err" </dev/null
status=$?
set -e
expect_eq 0 "$status" "the exit status of the record as $TEST_USER"
for name in a b; do
	expect_grep "^runbundle: warning: cannot read: '$u/$name': " "$TMP/err"
done

# checkout and export skip both files, and name each one by its whole
# path.
final=$(last_data "$TMP/u.rb" workspace .snapshot)
set +e
"$RB" checkout "$TMP/u.rb" "$final" "$TMP/co" >"$TMP/out" 2>"$TMP/err"
set -e
for name in a b; do
	expect_grep "^runbundle: not checked out: '$u/$name': " "$TMP/err"
done
set +e
"$RB" export --format tar -o "$TMP/u.tar" "$TMP/u.rb" >"$TMP/out" \
	2>"$TMP/err"
set -e
for name in a b; do
	expect_grep "^runbundle: not exported: '$u/$name': " "$TMP/err"
done
