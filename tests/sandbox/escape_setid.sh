#!/bin/sh
# Escape attempts through the set-user-ID and set-group-ID bits. The
# workspace is nosuid inside the sandbox, but a file there keeps its
# mode on the host, so a setuid copy of a program made by an agent that
# runs as root would run as root for any local user. Every system call
# that can give a file either bit must fail with EPERM, be reported as
# a policy violation, and leave no such bit on the host. Ordinary mode
# changes and a build still work.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

PY=/usr/bin/python3

# no_id_bits WHO: no file in WHO's workspace has either bit on the host.
no_id_bits() {
	found=$(find "$(workspace "$1")" -perm /6000)
	[ -z "$found" ] || fail "$1: set-ID bits on the host: $found"
}

# denied WHO SYSCALL COMMAND: the shell command fails in WHO's sandbox,
# the denial of SYSCALL is reported, and no file got either bit.
denied() {
	refused "$1" -- sh -c "$3"
	violation "system call: '$2': denied by seccomp"
	no_id_bits "$1"
}

calls="fchmod fchmodat fchmodat2 openat tmpfile mknodat"
if [ "$(uname -m)" = x86_64 ]; then
	calls="chmod open creat mknod $calls"
fi

for who in $IDENTITIES; do
	# Each system call, with S_ISUID and then S_ISGID.
	for call in $calls; do
		blocked "$who" set-id-bits "$call"
		expect_eq 2 "$(grep -c '^blocked: ' "$TMP/out")" "$who: $call"
		[ "$call" != tmpfile ] || call=openat
		violation "system call: '$call': denied by seccomp"
		no_id_bits "$who"
	done

	# The same through the tools an agent would use.
	denied "$who" fchmodat 'touch f && chmod 4755 f'
	denied "$who" fchmodat 'touch f && chmod 2755 f'
	denied "$who" fchmodat 'touch f && chmod u+s f'
	denied "$who" fchmodat 'touch f && install -m 4755 f g'
	denied "$who" openat "$PY -c 'import os
os.open(\"p\", os.O_WRONLY | os.O_CREAT, 0o4755)'"
	denied "$who" fchmod "$PY -c 'import os
os.fchmod(os.open(\"f\", os.O_RDONLY), 0o2755)'"
	# openat2, whose mode the filter cannot read, fails with ENOSYS,
	# unreported, so that a program falls back to openat.
	expect_status 0 sandbox "$who" -- "$PY" -c 'import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
how = (ctypes.c_uint64 * 3)(0o101, 0o4755, 0)  # O_WRONLY | O_CREAT
fd = libc.syscall(437, -100, b"o2", ctypes.byref(how), 24)
print("openat2", fd, errno.errorcode.get(ctypes.get_errno()))'
	expect_grep '^openat2 -1 ENOSYS$' "$TMP/out"
	[ ! -e "$(workspace "$who")/o2" ] || fail "$who: openat2 made a file"
	# A set-group-ID directory is refused as well: the filter cannot
	# tell a directory from a file (docs/policy.md).
	denied "$who" fchmodat 'mkdir -p d && chmod g+s d'

	# Ordinary modes, the sticky bit and a build are not affected.
	expect_status 0 sandbox "$who" -- sh -c '
		set -e
		printf "int main(void) { return 0; }\n" >hello.c
		printf "hello: hello.c\n\tcc -o hello hello.c\n" >Makefile
		rm -f hello && make -s && ./hello
		chmod 755 hello && chmod +x hello.c && chmod 600 hello.c
		cp -p hello hello-copy && ./hello-copy
		install -m 755 hello hello-installed && ./hello-installed
		mkdir -p shared && chmod 1777 shared
		python3 -c "import os, shutil
os.close(os.open(\"made\", os.O_WRONLY | os.O_CREAT, 0o755))
shutil.copy2(\"made\", \"made-copy\")"'
	if grep -q 'policy violation' "$TMP/err"; then
		cat "$TMP/err" >&2
		fail "$who: an ordinary build was reported"
	fi
	ws=$(workspace "$who")
	expect_eq 1777 "$(stat -c %a "$ws/shared")" "$who: the sticky bit"
	expect_eq 755 "$(stat -c %a "$ws/made-copy")" "$who: copy2's mode"
	no_id_bits "$who"
done
