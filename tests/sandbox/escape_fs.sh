#!/bin/sh
# Escape attempts through the file system: writes outside the
# workspace directly, through a symlink, through /proc/self/root and
# through a hardlink; reads of hidden home directories.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

outside=$TMP/outside
mkdir -p "$outside"
chmod 777 "$outside"
echo secret >"$TMP/secret"
chmod 644 "$TMP/secret"

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	ln -sf "$outside" "$ws/link-out"
	for target in /etc/x /usr/x /x /proc/self/root/etc/x \
		"$outside/direct" ./link-out/via-link \
		"/proc/self/root$outside/via-proc"; do
		refused "$who" -- sh -c "echo x > '$target'"
	done
	[ -z "$(ls -A "$outside")" ] ||
		fail "$who: a file appeared outside the workspace:" \
			"$(ls "$outside")"
	[ ! -e /etc/x ] && [ ! -e /usr/x ] && [ ! -e /x ] ||
		fail "$who: a file appeared in the host's root"

	# A hardlink to a file outside fails: the file is not visible, and
	# visible ones are on other mounts.
	refused "$who" -- ln "$TMP/secret" hard
	refused "$who" -- ln /etc/passwd hard
	[ ! -e "$ws/hard" ] || fail "$who: a hardlink was created"

	# The workspace itself is writable.
	expect_status 0 sandbox "$who" -- sh -c 'echo ok > inside'
	expect_eq ok "$(cat "$ws/inside")" "$who: write in the workspace"

	# Home directories and /root are not visible at all.
	refused "$who" -- test -e /root
	expect_status 0 sandbox "$who" -- ls -A /home
	expect_eq agent "$(cat "$TMP/out")" "$who: /home holds only HOME"
done

# A directory made visible by the policy, with a hidden part inside.
home=$TMP/fakehome
mkdir -p "$home/.ssh"
echo key >"$home/.ssh/id_ed25519"
echo public >"$home/readme"
chmod -R a+rX "$home"
p=$(policy hidden "{\"version\": 1, \"filesystem\": {\"read_only\":
	[\"/usr\", \"/bin\", \"/lib\", \"/lib64\", \"/etc\", \"$home\"],
	\"hidden\": [\"$home/.ssh\", \"/etc/shadow\"]}}")
for who in $IDENTITIES; do
	expect_status 0 sandbox "$who" --policy "$p" -- cat "$home/readme"
	refused "$who" --policy "$p" -- cat "$home/.ssh/id_ed25519"
	refused "$who" --policy "$p" -- sh -c "echo x > '$home/readme'"
	refused "$who" --policy "$p" -- cat /etc/shadow
done
