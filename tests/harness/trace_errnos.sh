#!/bin/sh
# runbundle trace on failed execs whose errno a lookup of the path from
# outside the tracee would get wrong. The cases are a dangling symlink
# that is not to be followed, a path the tracer cannot read, /proc/self,
# and relative paths in a chroot. Each follows one failed exec, as in a
# PATH search. The record must have the errno that the kernel returned,
# which trace_helper after-failure prints, one per line.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/trace_lib.sh"

H=$TRACE_HELPER

# expect_errnos FILE: check that the errnos of the execs after the first
# failure are those that the helper printed.
expect_errnos() {
	first=/nonexistent-after-failure/first
	got=$(jq -r --arg first "$first" '.execs |
		(map(.path) | index($first)) as $i |
		.[$i + 1:][] | .errno // 0' "$1")
	expect_eq "$(cat "$TMP/cmd.out")" "$got" "errnos in $1"
}

# A dangling symlink run with AT_SYMLINK_NOFOLLOW fails with ELOOP: the
# kernel does not follow it to find the file missing.
ln -s /nonexistent-target "$TMP/dangling"
trace_json "$TMP/nofollow.json" "$H" after-failure -n "$TMP/dangling"
expect_eq 0 "$status" "nofollow exit status"
expect_errnos "$TMP/nofollow.json"

# A path string that the tracer cannot read: the kernel fails with
# ENAMETOOLONG here, not ENOENT.
trace_json "$TMP/unmapped.json" "$H" after-failure @unmapped
expect_eq 0 "$status" "unmapped exit status"
expect_errnos "$TMP/unmapped.json"

# /proc/self names the tracee to the kernel, here through a descriptor
# that only the tracee has. A file without execute permission fails
# with EACCES, as a program on a sandbox's denylist does.
: >"$TMP/noexec"
command -v bash >/dev/null || skip "bash is missing"
trace_json "$TMP/self.json" bash -c 'exec 200<"$1"
	exec "$2" after-failure /proc/self/fd/200 /dev/fd/200' \
	sh "$TMP/noexec" "$H"
expect_eq 0 "$status" "/proc/self exit status"
expect_errnos "$TMP/self.json"

[ "$(id -u)" = 0 ] || skip "the chroot cases need root"

# In a chroot, a relative path resolves in the tracee's root, both
# through ".." at the top and through an absolute symlink.
root=$TMP/root
mkdir -p "$root/bin-$$"
: >"$root/bin-$$/noexec"
ln -s "/bin-$$" "$root/lnk"
trace_json "$TMP/chroot.json" "$H" after-failure -r "$root" \
	"../../bin-$$/noexec" lnk/noexec
expect_eq 0 "$status" "chroot exit status"
expect_errnos "$TMP/chroot.json"

# A script run in the chroot must not be recorded as a decoy: the file
# at the script's host path, looked up again inside the chroot.
printf '#!/bin/sh\nexit 0\n' >"$root/bin-$$/script"
chmod 755 "$root/bin-$$/script"
for file in /bin/sh $(ldd /bin/sh | grep -o "/[^ ]*"); do
	mkdir -p "$root$(dirname "$file")"
	cp -L "$file" "$root$file"
done
mkdir -p "$root$root/lnk"
printf '#!/decoy\n' >"$root$root/lnk/script"
chmod 755 "$root$root/lnk/script"
trace_json "$TMP/decoy.json" "$H" after-failure -r "$root" lnk/script
decoy=$(sha256sum "$root$root/lnk/script" | cut -d' ' -f1)
got=$(jq -r '.execs[2].script.sha256 // "none"' "$TMP/decoy.json")
[ "$got" != "$decoy" ] || fail "the script is recorded as the decoy"
