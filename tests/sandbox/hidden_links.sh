#!/bin/sh
# A workspace.hidden part that is a symlink is covered itself: the file
# it leads to stays visible, even outside the workspace, where a cloned
# repository could otherwise point it at a library that every command
# needs. A part below a symlinked directory is no path of the workspace
# and is left alone.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

hidden=$(policy hidden '{"version": 1, "workspace": {"hidden":
	[".env", "data", "linked/f"]}}')

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	mkdir -p "$ws/real"
	echo inside >"$ws/real/f"
	ln -sfn /etc/hostname "$ws/.env"
	ln -sfn /usr/lib "$ws/data"
	ln -sfn real "$ws/linked"
	[ "$who" = user ] && chown -hR "$TEST_USER" "$ws"

	# The links' targets outside the workspace stay readable.
	expect_status 0 sandbox "$who" --policy "$hidden" -- \
		sh -c 'cat /etc/hostname && ls /usr/lib/os-release'
	# The links themselves are covered, and cannot be moved aside.
	refused "$who" --policy "$hidden" -- cat .env
	expect_grep 'Permission denied' "$TMP/err"
	refused "$who" --policy "$hidden" -- ls data/os-release
	refused "$who" --policy "$hidden" -- mv .env moved
	expect_grep 'busy' "$TMP/err"
	# A part below a symlinked directory covers nothing.
	expect_status 0 sandbox "$who" --policy "$hidden" -- cat linked/f
	expect_eq inside "$(cat "$TMP/out")" "$who: linked/f"
	[ -L "$ws/.env" ] || fail "$who: .env is no longer a symlink"
done
