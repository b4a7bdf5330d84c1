#!/bin/sh
# The readers on a workspace whose paths are longer than PATH_MAX: a
# chain of 255-byte directory names, with three files at the bottom
# whose paths differ only past the first 10,000 bytes. Each command
# names each file in full, or the three would look the same.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# deep_tree DIR STEP: 40 levels of 255-byte names, made through
# descriptors, because no single path may reach the bottom.
deep_tree() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys
top = sys.argv[1]
os.makedirs(top, exist_ok=True)
fd = os.open(top, os.O_RDONLY)
for i in range(40):
    name = '%03d' % i + 'd' * 252
    try:
        os.mkdir(name, dir_fd=fd)
    except FileExistsError:
        pass
    fd = os.open(name, os.O_RDONLY, dir_fd=fd)
for name in ('.git', '.git/hooks'):
    try:
        os.mkdir(name, dir_fd=fd)
    except FileExistsError:
        pass
def put(name, text, mode=0o644):
    f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode,
                dir_fd=fd)
    os.write(f, text.encode())
    os.close(f)
put('deep.txt', 'deep ' + sys.argv[2] + '\n')
put('.git/hooks/pre-commit', '#!/bin/sh\necho ' + sys.argv[2] + '\n')
if sys.argv[2] == 'two':
    put('new-deep.txt', 'new\n', 0o755)
PY
}

deep=$(/usr/bin/python3 -c \
	'print("/".join("%03d" % i + "d" * 252 for i in range(40)))')
deep_tree "$TMP/w" one
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/w"
deep_tree "$TMP/w" two
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
