#!/bin/sh
# Input that record can check before the run fails with exit status 3,
# a message that names the value and the fix, and no bundle. The cases:
# a workspace that is no directory or that the caller cannot read; an
# -o that exists, is a dangling symlink, is empty or lies on proc; a
# policy whose HOME seed is missing or whose number is too large; a disk
# too full for the bundle.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

mkdir "$TMP/ws" "$TMP/dest"
echo data >"$TMP/ws/a"
echo mine >"$TMP/dest/existing.rb"
echo plain >"$TMP/afile"
ln -s "$TMP/dest/nowhere.rb" "$TMP/dest/dangling.rb"
cd "$TMP/ws"

# rejected BUNDLE MESSAGE HINT [OPTION...]: record -o BUNDLE exits 3 with
# the message and the hint, and leaves nothing new in $TMP/dest.
rejected() {
	_bundle=$1 _message=$2 _hint=$3
	shift 3
	ls -A "$TMP/dest" >"$TMP/before"
	record "$_bundle" "$@" -- true
	[ "$status" = 3 ] || {
		cat "$TMP/err" >&2
		fail "-o '$_bundle' $*: expected exit status 3, got $status"
	}
	expect_eq "runbundle: $_message" "$(head -n 1 "$TMP/err")" \
		"the message for -o '$_bundle' $*"
	expect_eq "hint: $_hint" "$(sed -n 2p "$TMP/err")" \
		"the hint for -o '$_bundle' $*"
	ls -A "$TMP/dest" >"$TMP/after"
	cmp -s "$TMP/before" "$TMP/after" ||
		fail "-o '$_bundle' $* left:" \
			"$(comm -13 "$TMP/before" "$TMP/after")"
}

rejected "$TMP/dest/w.rb" "cannot use the workspace: '$TMP/afile': not a \
directory" "give a directory with --workspace" --workspace "$TMP/afile"
# A policy whose HOME seed is missing or not a directory.
printf '{"version": 1, "home": {"seed": "%s"}}\n' "$TMP/noseed" \
	>"$TMP/noseed.json"
printf '{"version": 1, "home": {"seed": "%s"}}\n' "$TMP/afile" \
	>"$TMP/fileseed.json"
rejected "$TMP/dest/s.rb" "invalid policy: '$TMP/noseed.json': home.seed: \
'$TMP/noseed': No such file or directory" "create the directory that \
seeds HOME, or take home.seed out of the policy" --policy "$TMP/noseed.json"
rejected "$TMP/dest/s.rb" "invalid policy: '$TMP/fileseed.json': \
home.seed: '$TMP/afile': not a directory" "create the directory that \
seeds HOME, or take home.seed out of the policy" \
	--policy "$TMP/fileseed.json"

# A number too large for a double is quoted as the policy writes it,
# after other numbers and strings with digits, which do not confuse the
# search for its text.
cat >"$TMP/big.json" <<'JSON'
{"version": 1, "env": {"set": {"N": "-7 \" 1e5"}},
 "limits": {"processes": 64, "timeout_seconds": 18446744073709551617}}
JSON
record "$TMP/dest/big.rb" --policy "$TMP/big.json" -- true
expect_eq 3 "$status" "the exit status for a too large number"
expect_eq "runbundle: invalid policy: '$TMP/big.json': \
limits.timeout_seconds: 18446744073709551617: too large: a JSON number \
is exact up to 9007199254740992 (2^53)" "$(cat "$TMP/err")" \
	"the too large number"
[ ! -e "$TMP/dest/big.rb" ] || fail "a policy too large left a bundle"

rejected "$TMP/dest/w.rb" "cannot use the workspace: '$TMP/none': No such \
file or directory" "give an existing directory with --workspace" \
	--workspace "$TMP/none"
rejected "$TMP/dest/existing.rb" "cannot create the bundle: \
'$TMP/dest/existing.rb': it exists" "remove it, or choose a new name with -o"
expect_eq mine "$(cat "$TMP/dest/existing.rb")" "the existing file"
rejected "$TMP/dest/dangling.rb" "cannot create the bundle: \
'$TMP/dest/dangling.rb': it is a dangling symbolic link" \
	"remove it, or choose a new name with -o"
[ ! -e "$TMP/dest/nowhere.rb" ] || fail "record wrote through a symlink"
rejected "" "invalid bundle name: '': empty" "name the bundle file with -o FILE"
if [ "$(id -u)" -eq 0 ]; then
	# Only root can write /proc's directory, so only root gets as far
	# as the file system check.
	rejected /proc/x.rb "cannot write the bundle: '/proc/x.rb': its \
directory '/proc' is on proc, where no file can be created" \
		"choose a place on a disk with -o"
fi

[ "$(id -u)" -eq 0 ] || skip "the rest needs root"

# A workspace of mode 000, which the test user cannot read: rejected
# for what it is, not for a file inside it.
unpriv_setup
mkdir "$TMP/closed" "$TMP/userout"
chmod 000 "$TMP/closed"
chown "$TEST_USER:" "$TMP/userout"
set +e
as_user "$UNPRIV_RUNBUNDLE" record -o "$TMP/userout/u.rb" \
	--workspace "$TMP/closed" -- true >"$TMP/out.txt" 2>"$TMP/err"
status=$?
set -e
expect_eq 3 "$status" "record of a mode 000 workspace as $TEST_USER"
expect_eq "runbundle: cannot use the workspace: '$TMP/closed': Permission \
denied" "$(head -n 1 "$TMP/err")" "the message for a mode 000 workspace"
expect_grep '^hint: make it readable and searchable for you' "$TMP/err"
expect_eq "" "$(ls -A "$TMP/userout")" "files left by a mode 000 workspace"

# A disk too full to create the bundle on: a tmpfs filled up first, in a
# private mount namespace.
unshare -m true 2>/dev/null || skip "cannot create a mount namespace"
mkdir "$TMP/disk"
set +e
unshare -m --propagation private sh -c '
	mount -t tmpfs -o size=256k tmpfs "$1" || exit 77
	head -c 1048576 /dev/zero >"$1/fill" 2>/dev/null
	shift
	"$@"
	status=$?
	ls -A "$0" >"$0/../disk.ls"
	exit $status' "$TMP/disk" "$TMP/disk" \
	"$RB" record -o "$TMP/disk/full.rb" -- true >/dev/null 2>"$TMP/err"
status=$?
set -e
[ "$status" -ne 77 ] || skip "cannot mount a tmpfs"
expect_eq 3 "$status" "record on a full disk"
expect_grep "^runbundle: cannot create bundle: '$TMP/disk/full.rb': \
database or disk is full$" "$TMP/err"
expect_grep "^hint: free space on the file system of '$TMP/disk/full.rb', \
or create the bundle on another one with -o$" "$TMP/err"
grep -q 'stays intact' "$TMP/err" &&
	fail "the hint promises committed events of a bundle never made"
expect_eq fill "$(cat "$TMP/disk.ls")" "the files on the full disk"
exit 0
