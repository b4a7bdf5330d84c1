#!/bin/sh
# The exec denylist and allowlist: a denied command fails the same way
# by name, by absolute path, through a symlink, with execveat, and when
# its bytes are copied into a memfd.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

p=$(policy deny '{"version": 1, "exec": {"deny": ["su", "/usr/bin/id"]}}')
for who in $IDENTITIES; do
	ws=$(workspace "$who")
	ln -sf /usr/bin/id "$ws/id-link"
	expect_status 126 sandbox "$who" --policy "$p" -- su
	expect_grep "cannot run the command: 'su': Permission denied" \
		"$TMP/err"
	expect_status 126 sandbox "$who" --policy "$p" -- /usr/bin/su
	expect_status 126 sandbox "$who" --policy "$p" -- /bin/su
	expect_status 126 sandbox "$who" --policy "$p" -- id
	expect_status 126 sandbox "$who" --policy "$p" -- ./id-link
	refused "$who" --policy "$p" -- sh -c 'exec id'
	expect_status 0 sandbox "$who" --policy "$p" -- \
		./attack execveat /usr/bin/id
	expect_grep '^blocked: execveat' "$TMP/out"
	expect_status 0 sandbox "$who" --policy "$p" -- \
		./attack memfd-exec /usr/bin/id
	expect_grep '^blocked: ' "$TMP/out"
	# Other commands still run.
	expect_status 0 sandbox "$who" --policy "$p" -- true
done

# A directory of PATH bound at a second place of PATH is a second
# mount, and the denied command is covered there too. "." names a
# directory, not a command, and the policy rejects it. Only root can
# bind the directory.
if [ "$(id -u)" -eq 0 ]; then
	mkdir "$TMP/bin1" "$TMP/bin2"
	printf '#!/bin/sh\necho denied-ran\n' >"$TMP/bin1/secret"
	chmod 755 "$TMP/bin1/secret"
	mount --bind "$TMP/bin1" "$TMP/bin2"
	p=$(policy twice "{\"version\": 1, \"filesystem\": {\"read_only\":
		[\"/usr\", \"/bin\", \"/lib\", \"/lib64\", \"/etc\",
		 \"$TMP/bin1\", \"$TMP/bin2\"]},
		\"exec\": {\"deny\": [\"secret\"]},
		\"env\": {\"set\": {\"PATH\":
		 \"$TMP/bin1:$TMP/bin2:/usr/bin:/bin\"}}}")
	status=0
	sandbox root --policy "$p" -- sh -c "secret; exec $TMP/bin2/secret" \
		>"$TMP/out" 2>"$TMP/err" || status=$?
	umount "$TMP/bin2"
	if grep -q denied-ran "$TMP/out"; then
		fail "a denied command ran from a second mount of its directory"
	fi
	expect_eq 126 "$status" "denied command on a second mount"
fi
p=$(policy dot '{"version": 1, "exec": {"deny": ["."]}}')
expect_status 125 sandbox root --policy "$p" -- true
expect_grep 'exec.deny\[0\]: ".": neither a command name nor an absolute path' \
	"$TMP/err"

# With an allowlist, only the listed programs execute.
p=$(policy allow '{"version": 1, "exec": {"allow": ["sh", "true"]}}')
for who in $IDENTITIES; do
	expect_status 0 sandbox "$who" --policy "$p" -- sh -c true
	expect_status 126 sandbox "$who" --policy "$p" -- ./attack setuid
	refused "$who" --policy "$p" -- sh -c 'exec cat /dev/null'
done

# An entry that names a directory allows nothing, and the warning names
# it. The directory is named by its path, or by a name that PATH finds
# as a directory (/usr/bin/X11 is a symlink to "." on Debian). Execute
# on a directory would grant every program beneath it.
p=$(policy allowdir '{"version": 1, "exec": {"allow": ["sh", "/usr/bin",
	"bin"]}, "env": {"set": {"PATH": "/usr:/usr/bin:/bin"}}}')
for who in $IDENTITIES; do
	refused "$who" --policy "$p" -- sh -c 'exec /usr/bin/cat /dev/null'
	expect_grep "exec.allow: '/usr/bin': not a regular file, so this entry \
allows nothing" "$TMP/err"
	refused "$who" --policy "$p" -- sh -c 'exec cat /dev/null'
	expect_status 0 sandbox "$who" --policy "$p" -- sh -c true
done

# A program copied into a memfd, an O_TMPFILE file or /dev/shm is not
# under Landlock's execute right. vm.memfd_noexec = 2 stops a memfd where
# init can set it (a root caller). Elsewhere seccomp denies memfd_create
# without MFD_NOEXEC_SEAL. The O_TMPFILE file lies in a directory
# without the execute right, and /dev/shm is mounted noexec.
for who in $IDENTITIES; do
	ws=$(workspace "$who")
	d=$ws/description.json
	p=$(policy memfd "{\"version\": 1,
		\"exec\": {\"allow\": [\"$ws/attack\"]}}")
	for attack in memfd-exec memfd-exec-flag memfd-sealed memfd-proc \
		shm-exec; do
		expect_status 0 sandbox "$who" --policy "$p" -- \
			./attack "$attack" /usr/bin/cat
		expect_grep '^blocked: ' "$TMP/out"
	done
	for dir in /tmp "$ws"; do
		expect_status 0 sandbox "$who" --policy "$p" -- \
			./attack tmpfile-exec "$dir" /usr/bin/cat
		expect_grep '^blocked: ' "$TMP/out"
	done
	# The allowlisted program itself still runs.
	expect_status 0 sandbox "$who" --policy "$p" --description "$d" -- \
		./attack setuid
	sysctl=$(jq -r '.sysctls["/proc/sys/vm/memfd_noexec"]' "$d")
	seal=$(jq -r '.seccomp.options.seal_memfd' "$d")
	if [ "$sysctl" = 2 ]; then
		expect_eq false "$seal" "$who: seal_memfd with the sysctl"
	else
		expect_eq true "$seal" "$who: seal_memfd without the sysctl"
		expect_status 0 sandbox "$who" --policy "$p" -- \
			./attack memfd-exec /usr/bin/cat
		expect_grep '^blocked: memfd_create: Operation not permitted' \
			"$TMP/out"
	fi
	if [ "$who" = root ]; then
		expect_eq 2 "$sysctl" "root: memfd_noexec in the description"
	fi
done
