#!/bin/sh
# The workspace and HOME cannot be placed over a system path, a path of
# the policy, or each other. Each case only checks the rejection: no
# command runs, so nothing is written to the host's system paths.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

ln -s /etc "$TMP/etc-link"
chmod 755 "$TMP"

# rejected_workspace WHO DIR CONFLICT: --workspace DIR fails with 125
# and names DIR, the path it conflicts with and the fix.
rejected_workspace() {
	expect_status 125 sandbox "$1" --workspace "$2" -- true
	expect_grep "^runbundle: cannot start the sandbox: '$2': \
the workspace would be, contain or lie inside the system or policy path \
'$3'$" "$TMP/err"
	expect_grep "^hint: use a project directory as the workspace" \
		"$TMP/err"
}

for who in $IDENTITIES; do
	for dir in /etc /usr /proc /sys /dev; do
		rejected_workspace "$who" "$dir" "$dir"
	done
	rejected_workspace "$who" /etc/apt /etc
	rejected_workspace "$who" /usr/share/doc /usr
	rejected_workspace "$who" /tmp /tmp
	rejected_workspace "$who" /var /var/run

	# A symlink is resolved before the check: /bin is /usr/bin on a
	# merged-/usr system, and etc-link is /etc.
	expect_status 125 sandbox "$who" --workspace /bin -- true
	expect_grep "^runbundle: cannot start the sandbox: \
'$(realpath /bin)': " "$TMP/err"
	expect_status 125 sandbox "$who" --workspace "$TMP/etc-link" -- true
	expect_grep "^runbundle: cannot start the sandbox: '/etc': " "$TMP/err"

	# A path that the policy makes read-only cannot be the workspace.
	ro=$(workspace "$who")/ro
	mkdir -p "$ro"
	p=$(policy ro "{\"version\": 1, \"filesystem\":
		{\"read_only\": [\"/usr\", \"$ro\"]}}")
	expect_status 125 sandbox "$who" --policy "$p" --workspace "$ro" \
		-- true
	expect_grep "the system or policy path '$ro'$" "$TMP/err"
	expect_grep "^hint: use a project directory outside '$ro' as the \
workspace, or take '$ro' out of the policy's filesystem.read_only$" \
		"$TMP/err"

	# A project inside a hidden path, such as a home directory, is
	# still a valid workspace.
	p=$(policy hidden "{\"version\": 1, \"filesystem\":
		{\"hidden\": [\"/root\", \"$TMP\"]}}")
	expect_status 0 sandbox "$who" --policy "$p" -- test -d "$ro"

	# HOME is a tmpfs, so over the workspace it would hide it.
	ws=$(workspace "$who")
	for home in "$ws" "$ws/home" "$(dirname "$ws")"; do
		p=$(policy home "{\"version\": 1, \"home\":
			{\"path\": \"$home\"}}")
		expect_status 125 sandbox "$who" --policy "$p" -- true
		expect_grep "^runbundle: cannot start the sandbox: '$home': \
HOME would be, contain or lie inside the workspace '$ws'" "$TMP/err"
		expect_grep "^hint: set home.path in the policy" "$TMP/err"
	done

	# With HOME left at its default, the error names that value and
	# the key that conflicts with it.
	p=$(policy home '{"version": 1,
		"filesystem": {"read_only": ["/usr", "/home"]}}')
	expect_status 125 sandbox "$who" --policy "$p" -- true
	expect_grep "^runbundle: invalid policy: '$p': home.path: \
\"/home/agent\" (the default): HOME cannot be, contain or lie inside the \
system or read-only path '/home'$" "$TMP/err"
	expect_grep "^hint: set home.path to a path outside '/home', or take \
'/home' out of filesystem.read_only$" "$TMP/err"

	# The hint names a HOME that this policy accepts: here not the
	# default /home/agent, which lies in a read-only path.
	p=$(policy home "{\"version\": 1, \"home\": {\"path\": \"$ws/home\"},
		\"filesystem\": {\"read_only\": [\"/usr\", \"/home\"]}}")
	expect_status 125 sandbox "$who" --policy "$p" -- true
	expect_grep "^hint: set home.path in the policy to a path outside \
the workspace, such as /srv/agent$" "$TMP/err"
	for home in /etc /usr/local/home /proc/home /tmp; do
		p=$(policy home "{\"version\": 1, \"home\":
			{\"path\": \"$home\"}}")
		expect_status 125 sandbox "$who" --policy "$p" -- true
		expect_grep "^runbundle: invalid policy: '$p': home.path: \
\"$home\": HOME cannot be, contain or lie inside the system or \
read-only path " "$TMP/err"
	done
done
