#!/bin/sh
# A replay runs the recorded command under the recorded policy, which
# the bundle's author wrote. Before the agent starts, replay
# lists on stderr what that policy grants beyond the default one: host
# paths bound read-only, default hidden paths left visible, a HOME
# seed, network destinations, nested user namespaces and variables
# passed. Where it shows the agent more of this host (paths, network,
# user namespaces), the replay is rejected unless --trust-policy is
# given. A recording under the default policy gets no such note.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

mkdir "$TMP/extra" "$TMP/seed"
echo hello >"$TMP/seed/.profile"
cat >"$TMP/policy.json" <<JSON
{"version": 1, "nested_userns": true,
 "filesystem": {"read_only": ["/usr", "/bin", "/sbin", "/lib", "/lib64",
	"/etc", "$TMP/extra"],
	"hidden": ["/home", "/root", "/run", "/var/run", "/etc/shadow"]},
 "home": {"path": "/home/agent", "seed": "$TMP/seed"},
 "network": {"allow": ["127.0.0.1:9"]},
 "env": {"pass": ["LANG", "LC_*", "TERM", "TZ", "COLORTERM", "NO_COLOR",
	"MYVAR"]}}
JSON
new_workspace "$TMP/ws" 'echo one'
MYVAR=value record_in "$TMP/ws" "$TMP/wide.rb" --policy "$TMP/policy.json"

# Without --trust-policy: rejected before the agent runs, with the list.
replay_json "$TMP/wide.rb"
expect_replay_status 2
expect_grep "^runbundle: cannot replay under the recorded policy: \
'$TMP/wide.rb': it shows the agent more of this host" "$TMP/replay.err"
expect_grep "^  filesystem.read_only: '$TMP/extra' (" "$TMP/replay.err"
expect_grep "^  network.allow: '127.0.0.1:9' (" "$TMP/replay.err"
expect_grep "^hint: read the list, then replay with --trust-policy" \
	"$TMP/replay.err"
if [ -s "$TMP/json" ]; then
	cat "$TMP/json" >&2
	fail "a rejected replay printed a report"
fi

# The list is whole however long it is: here well past 8 KiB, with the
# widening that matters most last.
long=$(printf 'x%.0s' $(seq 200))
paths=$(for i in $(seq 45); do printf '"/nonexistent/%s%d", ' "$long" "$i"
	done)
cat >"$TMP/long.json" <<JSON
{"version": 1, "nested_userns": true,
 "filesystem": {"read_only": ["/usr", "/bin", "/sbin", "/lib", "/lib64",
	"/etc", $paths "$TMP/extra"]}}
JSON
new_workspace "$TMP/longws" 'echo one'
record_in "$TMP/longws" "$TMP/long.rb" --policy "$TMP/long.json"
replay_json "$TMP/long.rb"
expect_replay_status 2
expect_grep "'/nonexistent/${long}45', '$TMP/extra' (" "$TMP/replay.err"
expect_grep "^  nested_userns: true" "$TMP/replay.err"
expect_grep "^hint: read the list" "$TMP/replay.err"

replay_json "$TMP/wide.rb" --trust-policy
expect_replay_status 0
note="^note: the recorded policy grants more than runbundle's default policy"
expect_grep "$note" "$TMP/replay.err"
expect_grep "^  filesystem.read_only: '$TMP/extra' (" "$TMP/replay.err"
expect_grep "^  filesystem.hidden lacks: '/etc/shadow-', '/etc/gshadow'" \
	"$TMP/replay.err"
expect_grep "^  home.seed: '$TMP/seed' (HOME starts as the bundle's copy" \
	"$TMP/replay.err"
expect_grep "^  network.allow: '127.0.0.1:9' (" "$TMP/replay.err"
expect_grep "^  nested_userns: true" "$TMP/replay.err"
expect_grep "^  env.pass: 'MYVAR' (" "$TMP/replay.err"
# The default read-only paths that the file repeats are not listed.
if grep -q "^  filesystem.read_only: .*'/usr'" "$TMP/replay.err"; then
	cat "$TMP/replay.err" >&2
	fail "a default read-only path is listed as added"
fi
# The note is the first line on stderr, before anything of the run.
expect_eq 1 "$(grep -n "$note" "$TMP/replay.err" | cut -d: -f1)" \
	"the line of the policy note"

# Variables passed and a HOME seed come from the bundle, not from this
# host, so they are listed without a rejection.
cat >"$TMP/env-only.json" <<JSON
{"version": 1, "env": {"pass": ["LANG", "LC_*", "TERM", "TZ", "COLORTERM",
	"NO_COLOR", "MYVAR"]}}
JSON
new_workspace "$TMP/envonly" 'echo one'
MYVAR=value record_in "$TMP/envonly" "$TMP/env.rb" \
	--policy "$TMP/env-only.json"
replay_json "$TMP/env.rb"
expect_replay_status 0
expect_grep "$note" "$TMP/replay.err"
expect_grep "^  env.pass: 'MYVAR' (" "$TMP/replay.err"

new_workspace "$TMP/plain" 'echo one'
record_in "$TMP/plain" "$TMP/plain.rb"
replay_json "$TMP/plain.rb"
expect_replay_status 0
if grep -q "recorded policy" "$TMP/replay.err"; then
	cat "$TMP/replay.err" >&2
	fail "a recording under the default policy got a policy note"
fi

# --policy FILE replays under the replayer's own policy instead. The
# recorded one bound $TMP/extra for the agent to read, and this one does
# not. So the replay lists where the sandboxes differ, diverges where
# the agent read the file, and prints no note of the recorded policy.
echo private >"$TMP/extra/secret"
new_workspace "$TMP/reader" "cat $TMP/extra/secret"
record_in "$TMP/reader" "$TMP/reader.rb" --policy "$TMP/policy.json"
echo '{"version": 1}' >"$TMP/mine.json"
replay_json "$TMP/reader.rb" --policy "$TMP/mine.json"
expect_replay_status 1
expect_grep "^note: replaying under the policy '$TMP/mine.json', \
not the recorded one" "$TMP/replay.err"
expect_grep "mounts $TMP/extra: recorded ro,nosuid,nodev bind, now missing" \
	"$TMP/replay.err"
expect_eq diverged "$(jqr .verdict)" "the verdict under the own policy"
if grep -q "recorded policy grants" "$TMP/replay.err"; then
	cat "$TMP/replay.err" >&2
	fail "the recorded policy's note came with --policy"
fi

# A policy file that cannot be read stops the replay before the note
# that names it as the one in use.
replay_json "$TMP/reader.rb" --policy "$TMP/missing.json"
expect_replay_status 3
expect_grep "^runbundle: cannot read policy: '$TMP/missing.json': " \
	"$TMP/replay.err"
if grep -q "^note: replaying under the policy" "$TMP/replay.err"; then
	cat "$TMP/replay.err" >&2
	fail "the note of an unreadable policy came before its error"
fi

# A recorded policy that this process cannot apply is named by its
# bundle, not by the copy of it that the replay works from.
cat >"$TMP/files.json" <<JSON
{"version": 1, "limits": {"open_files": 512}}
JSON
new_workspace "$TMP/files" 'echo one'
record_in "$TMP/files" "$TMP/files.rb" --policy "$TMP/files.json"
(ulimit -n 256 && ulimit -Hn 256 && replay_json "$TMP/files.rb" &&
	echo "$status" >"$TMP/files.status")
expect_eq 3 "$(cat "$TMP/files.status")" "status of a replay over the limit"
expect_grep "^runbundle: cannot apply recorded policy: '$TMP/files.rb': \
limits.open_files: 512: more than the hard limit of this process (256)\$" \
	"$TMP/replay.err"
# Its hint names what the replayer can change, since the recorded file
# cannot be edited.
expect_grep "^hint: replay with --policy FILE whose limits.open_files is at \
most 256, or raise the hard limit with 'ulimit -Hn'" "$TMP/replay.err"

# --policy is rejected for a run recorded with --sandbox none, which
# replays with no sandbox to apply it to.
new_workspace "$TMP/bare" 'echo one'
record_in "$TMP/bare" "$TMP/bare.rb" --sandbox none
replay_json "$TMP/bare.rb" --sandbox none --policy "$TMP/mine.json"
expect_replay_status 2
expect_grep "^runbundle: cannot replay under a policy: '$TMP/mine.json': " \
	"$TMP/replay.err"
exit 0
