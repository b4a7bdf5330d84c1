#!/bin/sh
# runbundle sandbox as a command: exit statuses, policy errors, the
# description file, HOME, --sandbox none, and the message when the
# kernel refuses user namespaces. As root and as the test user.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

for who in $IDENTITIES; do
	expect_status 0 sandbox "$who" -- true
	expect_status 3 sandbox "$who" -- sh -c 'exit 3'
	expect_status 143 sandbox "$who" -- sh -c 'kill -TERM $$'

	# The description names what was enforced, and the result.
	d=$(workspace "$who")/description.json
	expect_status 0 sandbox "$who" --description "$d" -- true
	expect_eq namespaces "$(jq -r .sandbox "$d")" "$who: sandbox"
	expect_eq 6 "$(jq '.namespaces | length' "$d")" "$who: namespaces"
	expect_eq "$(jq -r '.seccomp.sha256' "$d")" \
		"$(jq -r '.seccomp.sha256' "$d" | grep -E '^[0-9a-f]{64}$')" \
		"$who: seccomp digest"
	jq -e '.landlock.abi >= 1' "$d" >/dev/null ||
		fail "$who: no Landlock ABI in the description"
	expect_eq 0 "$(jq .result.exit_code "$d")" "$who: result"
	expect_eq true "$(jq '[.mounts[] | select(.path == "/usr")][0].options
		== "ro,nosuid,nodev"' "$d")" "$who: /usr read-only"

	# A description file that cannot be created fails before the
	# command runs, so the command's status is never lost.
	[ -p "$TMP/fifo" ] || mkfifo -m 666 "$TMP/fifo"
	for bad in "$TMP/missing/d.json" "$TMP/fifo" /dev/full "$TMP"; do
		expect_status 125 sandbox "$who" --description "$bad" -- \
			sh -c 'echo ran; exit 42'
		[ ! -s "$TMP/out" ] || fail "$who: the command ran: '$bad'"
		expect_grep "^runbundle: cannot create the description: \
'$bad': " "$TMP/err"
		expect_grep '^hint: ' "$TMP/err"
	done
	expect_grep ": Is a directory$" "$TMP/err"

	# Init shows no host path or option in its command line.
	expect_status 0 sandbox "$who" --description "$d" -- sh -c \
		'tr "\0" "\n" </proc/1/cmdline; cat /proc/1/comm'
	if grep -q -e / -e description -e -- "$TMP/out"; then
		cat "$TMP/out" >&2
		fail "$who: /proc/1/cmdline shows the host's command line"
	fi
	expect_grep '^sandbox-init$' "$TMP/out"

	# --sandbox none is an explicit opt-out, and it is recorded.
	expect_status 0 sandbox "$who" --sandbox none --description "$d" -- \
		true
	expect_eq none "$(jq -r .sandbox "$d")" "$who: opt-out recorded"

	# HOME is private and writable, and seeded from the policy's
	# directory without changing it.
	seed=$TMP/seed
	mkdir -p "$seed/.config"
	echo token-free >"$seed/.config/agent.toml"
	chmod -R a+rX "$seed"
	p=$(policy home "{\"version\": 1, \"home\": {\"seed\": \"$seed\"}}")
	expect_status 0 sandbox "$who" --policy "$p" -- sh -c \
		'cat ~/.config/agent.toml && echo new > ~/.config/agent.toml'
	expect_eq token-free "$(cat "$TMP/out")" "$who: HOME seed"
	expect_eq token-free "$(cat "$seed/.config/agent.toml")" \
		"$who: the seed is unchanged"

	# A seed that does not exist is named, with the fix.
	p=$(policy noseed "{\"version\": 1, \"home\": {\"seed\":
		\"$TMP/no-seed\"}}")
	expect_status 125 sandbox "$who" --policy "$p" -- true
	expect_grep "^runbundle: cannot open the HOME seed: '$TMP/no-seed': " \
		"$TMP/err"
	expect_grep '^hint: create the directory that seeds HOME' "$TMP/err"

	# A file of the seed that the sandbox cannot read is named, also
	# for root, which has no right in the sandbox to the files of an
	# owner that it does not map.
	if [ "$(id -u)" -eq 0 ]; then
		locked=$TMP/locked-seed
		mkdir -p "$locked/.config"
		echo key >"$locked/.config/token"
		chmod 600 "$locked/.config/token"
		chown 4343:4343 "$locked/.config/token"
		chmod a+rx "$locked" "$locked/.config"
		p=$(policy locked "{\"version\": 1, \"home\": {\"seed\":
			\"$locked\"}}")
		expect_status 125 sandbox "$who" --policy "$p" -- true
		expect_grep "^runbundle: cannot copy the HOME seed: \
'$locked/.config/token': Permission denied$" "$TMP/err"
		expect_grep '^hint: .*move it out of the seed$' "$TMP/err"
	fi

	# /dev follows /proc in the description. A hidden path is covered
	# in every run, also where it resolves into /dev through a symlink
	# that HOME's seed put there.
	expect_status 0 sandbox "$who" --description "$d" -- true
	expect_eq '["/proc","/dev","/dev/null"]' \
		"$(jq -c '[.mounts[].path][1:4]' "$d")" "$who: /dev beside"
	p=$(policy dev '{"version": 1, "filesystem": {"hidden":
		["/dev/zero"]}}')
	expect_status 0 sandbox "$who" --policy "$p" --description "$d" -- \
		sh -c 'head -c 4 /dev/zero | wc -c'
	expect_eq 0 "$(cat "$TMP/out")" "$who: /dev/zero hidden"
	expect_eq '["/proc","/dev","/dev/null"]' \
		"$(jq -c '[.mounts[].path][1:4]' "$d")" "$who: /dev and hidden"
	mkdir -p "$TMP/pts-seed"
	ln -sfn /dev/pts "$TMP/pts-seed/ptslink"
	chmod 755 "$TMP/pts-seed"
	p=$(policy ptslink "{\"version\": 1,
		\"home\": {\"seed\": \"$TMP/pts-seed\"},
		\"filesystem\": {\"hidden\": [\"/home/agent/ptslink\"]}}")
	for i in 1 2 3 4 5 6 7 8 9 10; do
		refused "$who" --policy "$p" -- ls /dev/pts
	done

	# Bad policies and usage fail with 125 or 2 before anything runs.
	p=$(policy bad '{"version": 1, "network": {"allow":
		["a.org:443", "b.org:443", "example.com:99999"]}}')
	expect_status 125 sandbox "$who" --policy "$p" -- true
	expect_grep "^runbundle: invalid policy: '$p': network.allow\[2\]: \
\"example.com:99999\": port out of range$" "$TMP/err"

	# A host that the proxy could not reach is rejected too: brackets
	# around anything but an IPv6 address, or an empty label.
	for entry in '[example.com]|not an IPv6 address in brackets' \
		     '[1.2.3.4]|not an IPv6 address in brackets' \
		     'a..org|empty label in host name'; do
		host=${entry%%|*}
		p=$(policy bad "{\"version\": 1, \"network\": {\"allow\":
			[\"[::1]:443\", \"a.org.:443\", \"$host:443\"]}}")
		expect_status 125 sandbox "$who" --policy "$p" -- true
		grep -qxF "runbundle: invalid policy: '$p': \
network.allow[2]: \"$host:443\": ${entry#*|}" "$TMP/err" ||
			fail "$who: $host: $(cat "$TMP/err")"
	done

	# A matching rule is compiled, as the recorder compiles it, and a
	# pattern that does not compile is rejected with its place.
	p=$(policy rules '{"version": 1, "matching": {"rules":
		["regex:build-[0-9]+", "regex:(unclosed"]}}')
	expect_status 125 sandbox "$who" --policy "$p" -- true
	expect_grep "^runbundle: invalid policy: '$p': matching.rules\[1\]: \
\"regex:(unclosed\": invalid regular expression: '(unclosed': \
missing closing parenthesis" "$TMP/err"
	p=$(policy rules '{"version": 1, "matching": {"rules":
		["regex:build-[0-9]+"]}}')
	expect_status 0 sandbox "$who" --policy "$p" -- true
	expect_status 125 sandbox "$who" --policy "$TMP/missing.json" -- true
	expect_grep "^runbundle: cannot read policy: '$TMP/missing.json': \
No such file or directory$" "$TMP/err"
	expect_status 2 sandbox "$who" --sandbox maybe -- true
	expect_status 2 sandbox "$who"
	expect_status 127 sandbox "$who" -- no-such-command
	expect_grep "^runbundle: cannot run the command: 'no-such-command': \
No such file or directory$" "$TMP/err"
done

# A kernel that refuses user namespaces: user.max_user_namespaces is a
# per-namespace limit, so a test namespace can set it to 0 for itself.
if unshare -U -r true 2>/dev/null; then
	ws=$(workspace root)
	expect_status 125 unshare -U -r sh -c \
		"echo 0 > /proc/sys/user/max_user_namespaces &&
		 cd '$ws' && '$RUNBUNDLE' sandbox -- true"
	expect_grep "^runbundle: cannot create the user namespace: 'clone': \
user.max_user_namespaces is 0$" "$TMP/err"
	expect_grep "^hint: .*--sandbox none" "$TMP/err"

	# The same for network namespaces, which the sandbox makes after
	# its user namespace: the message names the limit, not user
	# namespaces.
	expect_status 125 unshare -U -r sh -c \
		"echo 0 > /proc/sys/user/max_net_namespaces &&
		 cd '$ws' && '$RUNBUNDLE' sandbox -- true"
	expect_grep "^runbundle: cannot create the network namespace: \
'unshare': No space left on device$" "$TMP/err"
	expect_grep "^hint: a limit on network namespaces is reached: \
check user.max_net_namespaces" "$TMP/err"
fi

# The command keeps the forwarded signals that the caller ignores, as
# under nohup. 0x4007 is the mask of SIGHUP, SIGINT, SIGQUIT and SIGTERM.
caller=$(sed -n 's/^SigIgn:.//p' /proc/self/status)
ignored=$(printf '%016x' $((0x${caller#????????????} & 0x4007)))
for who in $IDENTITIES; do
	# No inherited file descriptor above 2 reaches the command: ls
	# lists 0, 1, 2 and the directory it reads.
	expect_status 0 sandbox "$who" -- sh -c 'ls /proc/self/fd' 5</dev/null
	expect_eq "0 1 2 3" "$(tr '\n' ' ' <"$TMP/out" | sed 's/ $//')" \
		"$who: open file descriptors"

	# runbundle ignores SIGPIPE; the command must not inherit that.
	expect_status 0 sandbox "$who" -- grep SigIgn /proc/self/status
	expect_grep "^SigIgn:.$ignored\$" "$TMP/out"
done

for who in $IDENTITIES; do
	# The command prints each attempt that the supervisor reports: a
	# write outside the writable paths, refused by the kernel, is then
	# named on stderr.
	expect_status 0 sandbox "$who" -- sh -c 'echo x >/etc/rbwrite; true'
	expect_grep "^runbundle: policy violation: write attempt: \
'/etc/rbwrite': outside the writable paths (openat, pid [0-9]*)$" "$TMP/err"
done

# As root, the command runs as uid 0 without capabilities and cannot
# write to a workspace of another user, so runbundle prints a note. A
# workspace of root's own gets no such note.
if [ "$(id -u)" -eq 0 ]; then
	ws=$(workspace user)
	owner=$(stat -c %u "$ws")
	set +e
	(cd "$ws" && "$RUNBUNDLE" sandbox -- sh -c 'echo x >f') \
		>"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
	expect_eq 2 "$status" "root in a workspace of uid $owner"
	note="^note: the command cannot write to the workspace: '$ws': it"
	note="$note belongs to uid $owner, and as root the command runs as"
	note="$note uid 0 without capabilities; run runbundle as uid $owner"
	expect_grep "$note" "$TMP/err"
	expect_status 0 sandbox root -- true
	if grep -q 'cannot write to the workspace' "$TMP/err"; then
		fail "a note for root's own workspace"
	fi
	mkdir "$TMP/ro-root" && chmod 555 "$TMP/ro-root"
	(cd "$TMP/ro-root" && "$RUNBUNDLE" sandbox -- true) \
		>"$TMP/out" 2>"$TMP/err" ||
		fail "root in its read-only directory"
	if grep -q 'cannot write to the workspace' "$TMP/err"; then
		fail "a note for root's own read-only workspace"
	fi

	# Without the sandbox the command keeps root's capabilities.
	(cd "$ws" && "$RUNBUNDLE" sandbox --sandbox none -- sh -c 'echo x >f') \
		>"$TMP/out" 2>"$TMP/err" || fail "root with --sandbox none"
	if grep -q 'cannot write to the workspace' "$TMP/err"; then
		fail "a note for a workspace with --sandbox none"
	fi
fi
