#!/bin/sh
# The readers on a workspace whose paths are longer than PATH_MAX: a
# chain of 255-byte directory names, with three files at the bottom
# whose paths differ only past the first 10,000 bytes. Each command
# names each file in full, or the three would look the same.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# files STEP [NAME[:MODE]=TEXT...]: the deep tree's files in STEP, and
# the further files given.
files() {
	step=$1
	shift
	deep_tree "$TMP/w" 40 "deep.txt=deep $step
" ".git/hooks/pre-commit=#!/bin/sh
echo $step
" "$@"
}

deep=$(deep_path 40)
files one
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/w"
files two "new-deep.txt:755=new
"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/w"

# The report lists each changed file by its whole path.
expect_status 0 "$RUNBUNDLE" report --json -o "$TMP/r.html" "$TMP/b.rb"
expect_eq "M $deep/.git/hooks/pre-commit
M $deep/deep.txt
A $deep/new-deep.txt" \
	"$(jq -r '.data.steps[0].changes[] | "\(.change) \(.path)"' \
		"$TMP/out")" "the report's changed files"

# ls names each entry of the deepest directory in full, in both forms,
# and so does a listing that starts from "./" or ends in "//".
expect_status 0 "$RUNBUNDLE" ls "$TMP/b.rb" "./$deep//"
expect_eq "drwxr-xr-x            0  $deep/.git/
-rw-r--r--            9  $deep/deep.txt
-rwxr-xr-x            4  $deep/new-deep.txt" "$(cat "$TMP/out")" \
	"ls of the deepest directory"
expect_status 0 "$RUNBUNDLE" ls --json -r "$TMP/b.rb" "$deep/.git"
expect_eq "$deep/.git/hooks
$deep/.git/hooks/pre-commit" "$(jq -r '.entries[].path' "$TMP/out")" \
	"ls --json -r of the deepest .git"

# A hard link shows the whole path of its first link, 1,500 bytes here.
mid=$(/usr/bin/python3 -c \
	'print("/".join("%03d" % i + "e" * 252 for i in range(6)))')
mkdir -p "$TMP/h/$mid"
echo x >"$TMP/h/$mid/f"
ln "$TMP/h/$mid/f" "$TMP/h/zz"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/h.rb" "$TMP/h"
expect_status 0 "$RUNBUNDLE" ls "$TMP/h.rb"
expect_grep "^-rw-r--r--            2  zz => $mid/f\$" "$TMP/out"
