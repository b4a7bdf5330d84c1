#!/bin/sh
# Each built-in gate rule fires on a run that breaks it and stays quiet
# on one that does not. The exit status and the one line per failed
# rule show which.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# new_run NAME: DIR with a before and an after tree that differ in one
# ordinary file.
new_run() {
	d=$TMP/$1
	mkdir -p "$d/before/src" "$d/after/src"
	echo one >"$d/before/src/a.c"
	echo two >"$d/after/src/a.c"
}

# forge_run NAME: the bundle $TMP/NAME/b.rb of the run from its trees.
forge_run() {
	run_spec "$TMP/$1"
	run_finish "$TMP/$1"
	forge "$TMP/$1/b.rb" "$TMP/$1/spec"
}

# gate_fails NAME RULE [GATE-OPTION...]: gate exits 1 with exactly one
# line, for RULE.
gate_fails() {
	b=$TMP/$1/b.rb
	shift
	rule=$1
	shift
	expect_status 1 "$RUNBUNDLE" gate "$@" "$b"
	expect_eq 1 "$(wc -l <"$TMP/out")" "lines for one failed rule"
	expect_eq "$rule" "$(awk '{print $1}' "$TMP/out")" "failed rule"
}

# A clean run passes every rule.
new_run clean
run_spec "$TMP/clean" --exec /usr/bin/make make
run_finish "$TMP/clean"
forge "$TMP/clean/b.rb" "$TMP/clean/spec"
expect_status 0 "$RUNBUNDLE" gate "$TMP/clean/b.rb"
expect_grep '^gate: all 10 rules passed$' "$TMP/out"
"$RUNBUNDLE" gate --json "$TMP/clean/b.rb" >"$TMP/json"
expect_eq true "$(jq .passed "$TMP/json")" "passed in JSON"
expect_eq 10 "$(jq '[.rules[] | select(.passed)] | length' "$TMP/json")" \
	"rules passed in JSON"
expect_eq 1 "$(jq .files_changed "$TMP/json")" "files changed in JSON"

# A lockfile anywhere in the tree is protected by default.
new_run lock
echo '{}' >"$TMP/lock/after/src/package-lock.json"
run_spec "$TMP/lock"
run_finish "$TMP/lock"
forge "$TMP/lock/b.rb" "$TMP/lock/spec"
gate_fails lock protected-path
expect_grep "'src/package-lock.json'" "$TMP/out"

# So is the rules file where docs/ci.md keeps it, which an agent could
# otherwise rewrite to pass its own gate.
new_run rules
mkdir -p "$TMP/rules/after/.runbundle"
echo '{"version": 1}' >"$TMP/rules/after/.runbundle/gate.json"
run_spec "$TMP/rules"
run_finish "$TMP/rules"
forge "$TMP/rules/b.rb" "$TMP/rules/spec"
gate_fails rules protected-path
expect_grep "'.runbundle/gate.json'" "$TMP/out"

# A symlink in place of a protected directory changes nothing below it,
# yet a later job that reads .runbundle/gate.json or .github/workflows
# then reads the agent's files in src. A symlink elsewhere passes.
for part in .runbundle .github; do
	name=link$part
	new_run "$name"
	mkdir -p "$TMP/$name/after/src/dir"
	echo '{"version": 1}' >"$TMP/$name/after/src/dir/gate.json"
	ln -s src/dir "$TMP/$name/after/$part"
	run_spec "$TMP/$name"
	run_finish "$TMP/$name"
	forge "$TMP/$name/b.rb" "$TMP/$name/spec"
	gate_fails "$name" protected-path
	expect_grep "'$part'$" "$TMP/out"
done
new_run link-elsewhere
mkdir -p "$TMP/link-elsewhere/after/src/dir"
ln -s dir "$TMP/link-elsewhere/after/src/.runbundle"
ln -s src "$TMP/link-elsewhere/after/.githubx"
run_spec "$TMP/link-elsewhere"
run_finish "$TMP/link-elsewhere"
forge "$TMP/link-elsewhere/b.rb" "$TMP/link-elsewhere/spec"
expect_status 0 "$RUNBUNDLE" gate "$TMP/link-elsewhere/b.rb"

# A bare repository, which git recognises by its HEAD, objects and refs
# whatever its name, runs the programs of its config and hooks too. A
# file named config elsewhere passes.
for part in src/app.git/config src/app.git/hooks/pre-commit; do
	name=bare-$(echo "$part" | tr ./ __)
	new_run "$name"
	mkdir -p "$TMP/$name/after/src/app.git/objects" \
		"$TMP/$name/after/src/app.git/refs" \
		"$TMP/$name/after/$(dirname "$part")"
	echo 'ref: refs/heads/main' >"$TMP/$name/after/src/app.git/HEAD"
	echo x >"$TMP/$name/after/$part"
	forge_run "$name"
	gate_fails "$name" protected-path
	expect_grep "'$part'" "$TMP/out"
done
new_run config-elsewhere
mkdir -p "$TMP/config-elsewhere/after/src/app/refs"
echo x >"$TMP/config-elsewhere/after/src/app/config"
echo x >"$TMP/config-elsewhere/after/src/app/HEAD"
forge_run config-elsewhere
expect_status 0 "$RUNBUNDLE" gate "$TMP/config-elsewhere/b.rb"

# So are a repository's config and hooks, which name programs that git
# runs on the host, at any depth, and a file named .git, which makes its
# directory a repository of the agent's.
for part in .git/config .git/hooks/pre-commit sub/.git deep/.git/config \
	a/b/.git/hooks/post-checkout; do
	name=git-$(echo "$part" | tr ./ __)
	new_run "$name"
	mkdir -p "$TMP/$name/after/$(dirname "$part")"
	echo x >"$TMP/$name/after/$part"
	forge_run "$name"
	gate_fails "$name" protected-path
	expect_grep "'$part'" "$TMP/out"
done

# Other files in a nested repository's .git, such as its objects, are
# not protected by default.
new_run git-objects
mkdir -p "$TMP/git-objects/after/deep/.git/objects"
echo x >"$TMP/git-objects/after/deep/.git/objects/ab"
run_spec "$TMP/git-objects"
run_finish "$TMP/git-objects"
forge "$TMP/git-objects/b.rb" "$TMP/git-objects/spec"
expect_status 0 "$RUNBUNDLE" gate "$TMP/git-objects/b.rb"

# A denied command, by the path of its exec and by a policy violation.
new_run sudo
run_spec "$TMP/sudo" --exec /usr/bin/sudo sudo
run_finish "$TMP/sudo"
forge "$TMP/sudo/b.rb" "$TMP/sudo/spec"
gate_fails sudo denied-command
expect_grep "'/usr/bin/sudo'" "$TMP/out"
new_run denied
run_spec "$TMP/denied" --denied mount
run_finish "$TMP/denied"
forge "$TMP/denied/b.rb" "$TMP/denied/spec"
gate_fails denied denied-command
expect_grep "'mount'" "$TMP/out"

# Items write control characters as escapes, as messages write paths:
# a changed path and a refused command with an escape character.
e=$(printf '\033')
new_run esc
echo x >"$TMP/esc/after/e${e}x.txt"
run_spec "$TMP/esc" --denied "mo${e}unt"
run_finish "$TMP/esc"
forge "$TMP/esc/b.rb" "$TMP/esc/spec"
echo '{"version": 1, "allowed_paths": ["src/*"]}' >"$TMP/esc.json"
"$RUNBUNDLE" gate --json --rules "$TMP/esc.json" "$TMP/esc/b.rb" \
	>"$TMP/json" && fail "gate passed a refused command"
expect_eq 'mo\x1bunt' "$(jq -r '.rules[] | select(.rule ==
	"denied-command") | .items[0]' "$TMP/json")" "the command's item"
expect_eq 'e\x1bx.txt' "$(jq -r '.rules[] | select(.rule ==
	"write-outside") | .items[0]' "$TMP/json")" "the path's item"
expect_status 1 "$RUNBUNDLE" gate --rules "$TMP/esc.json" "$TMP/esc/b.rb"
expect_grep "^denied-command .*'mo\\\\x1bunt'$" "$TMP/out"

# Network access through the proxy.
new_run net
run_spec "$TMP/net" --network example.com:443
run_finish "$TMP/net"
forge "$TMP/net/b.rb" "$TMP/net/spec"
gate_fails net network
expect_grep "'example.com:443'" "$TMP/out"

# A write that the sandbox refused fails write-outside even though the
# default allowed_paths covers every path, and the line names the path.
new_run write
run_spec "$TMP/write" --write /etc/passwd
run_finish "$TMP/write"
forge "$TMP/write/b.rb" "$TMP/write/spec"
gate_fails write write-outside
expect_grep "^write-outside  *1 write refused: '/etc/passwd'$" "$TMP/out"

# A refused write and a changed path outside allowed_paths: one line
# that counts both, the changed path first.
new_run both
echo x >"$TMP/both/after/notes.txt"
run_spec "$TMP/both" --write /usr/lib/x.so
run_finish "$TMP/both"
forge "$TMP/both/b.rb" "$TMP/both/spec"
echo '{"version": 1, "allowed_paths": ["src/*"]}' >"$TMP/both/rules.json"
gate_fails both write-outside --rules "$TMP/both/rules.json"
expect_grep "1 path changed outside the allowed ones, 1 write refused" \
	"$TMP/out"
"$RUNBUNDLE" gate --json --rules "$TMP/both/rules.json" "$TMP/both/b.rb" \
	>"$TMP/json" || true
expect_eq "1 path changed outside the allowed ones, 1 write refused: \
'notes.txt', '/usr/lib/x.so'" \
	"$(jq -r '.rules[] | select(.rule == "write-outside") | .detail' \
	"$TMP/json")" "write-outside detail in JSON"
expect_eq '["notes.txt","/usr/lib/x.so"]' "$(jq -c '.rules[] |
	select(.rule == "write-outside") | .items' "$TMP/json")" \
	"write-outside items in JSON"

# connect(2) past the proxy, for each address family, fails network.
new_run connect
run_spec "$TMP/connect" --connect inet 10.0.0.1 443 \
	--connect inet6 fd00::1 80 --connect unix @bus null
run_finish "$TMP/connect"
forge "$TMP/connect/b.rb" "$TMP/connect/spec"
gate_fails connect network
expect_grep "^network  *3 network accesses refused: '10.0.0.1:443'" "$TMP/out"
"$RUNBUNDLE" gate --json "$TMP/connect/b.rb" >"$TMP/json" || true
expect_eq '["10.0.0.1:443","[fd00::1]:80","@bus"]' "$(jq -c '.rules[] |
	select(.rule == "network") | .items' "$TMP/json")" \
	"network items in JSON"

# allow_network accepts both kinds of network attempt.
new_run allownet
run_spec "$TMP/allownet" --connect inet 10.0.0.1 443 \
	--network example.com:443
run_finish "$TMP/allownet"
forge "$TMP/allownet/b.rb" "$TMP/allownet/spec"
echo '{"version": 1, "allow_network": true}' >"$TMP/allownet/rules.json"
expect_status 0 "$RUNBUNDLE" gate --rules "$TMP/allownet/rules.json" \
	"$TMP/allownet/b.rb"
expect_status 1 "$RUNBUNDLE" gate "$TMP/allownet/b.rb"
expect_grep "2 network accesses refused: '10.0.0.1:443', 'example.com:443'" \
	"$TMP/out"

# A run that never ended.
new_run cut
run_spec "$TMP/cut" --no-end
run_finish "$TMP/cut"
forge "$TMP/cut/b.rb" "$TMP/cut/spec"
gate_fails cut incomplete
expect_grep "not finalized" "$TMP/out"

# A copy of it without its -wal, as a copy taken during a recording:
# the item and the note name the missing file, as verify does. A -wal
# beside it, even an empty one, is no longer missing.
if command -v sqlite3 >/dev/null; then
	cp "$TMP/cut/b.rb" "$TMP/cut/copy.rb"
	sqlite3 "$TMP/cut/copy.rb" 'PRAGMA journal_mode = WAL' >/dev/null
	[ ! -e "$TMP/cut/copy.rb-wal" ] || fail "sqlite3 left a -wal"
	expect_status 1 "$RUNBUNDLE" verify "$TMP/cut/copy.rb"
	expect_grep "'$TMP/cut/copy.rb-wal': missing" "$TMP/err"
	expect_status 1 "$RUNBUNDLE" gate "$TMP/cut/copy.rb"
	expect_grep "^incomplete .*'its -wal file is missing, which can \
contain its last events'" "$TMP/out"
	expect_grep "^runbundle: the bundle may lack committed events: \
'$TMP/cut/copy.rb-wal': missing" "$TMP/err"
	expect_grep "^hint: copy '$TMP/cut/copy.rb-wal' together with the \
bundle" "$TMP/err"
	: >"$TMP/cut/copy.rb-wal"
	expect_status 1 "$RUNBUNDLE" gate "$TMP/cut/copy.rb"
	grep -q 'wal' "$TMP/out" "$TMP/err" &&
		fail "gate noted a -wal that is there"
fi

# A run that the policy's wall-clock limit ended: timed-out, with the
# limit from the sandbox's description; allow_timeout accepts it.
new_run late
run_spec "$TMP/late" --no-end
jq -cn '{kind: "sandbox", object: {limits: {timeout_seconds:
	{value: 2, via: "init timer"}}}}' >>"$TMP/late/spec"
run_finish "$TMP/late"
jq -cn '{kind: "end", data: {started: true, exit_code: 137,
	signal: "KILL", timed_out: true, duration_us: 2030000}}' \
	>>"$TMP/late/spec"
echo '{"finalize": true}' >>"$TMP/late/spec"
forge "$TMP/late/b.rb" "$TMP/late/spec"
gate_fails late timed-out
expect_grep '^timed-out  *the run timed out after 2.03 s (policy limit 2 s)$' \
	"$TMP/out"
echo '{"version": 1, "allow_timeout": true}' >"$TMP/late/rules.json"
expect_status 0 "$RUNBUNDLE" gate --rules "$TMP/late/rules.json" \
	"$TMP/late/b.rb"
echo '{"version": 1, "allow_timeout": 1}' >"$TMP/late/bad.json"
expect_status 3 "$RUNBUNDLE" gate --rules "$TMP/late/bad.json" \
	"$TMP/late/b.rb"
expect_grep 'allow_timeout: 1: expected true or false' "$TMP/err"

# A run whose agent failed: agent-failed, with the status, the signal,
# or the signal that stopped the recording before the agent started.
# allow_failure accepts it. A timed-out run is left to timed-out.
# ended_run NAME DATA: a finalized run whose end event has DATA.
ended_run() {
	new_run "$1"
	run_spec "$TMP/$1" --no-end
	run_finish "$TMP/$1"
	echo "{\"kind\": \"end\", \"data\": $2}" | jq -c . \
		>>"$TMP/$1/spec"
	echo '{"finalize": true}' >>"$TMP/$1/spec"
	forge "$TMP/$1/b.rb" "$TMP/$1/spec"
}
ended_run nf '{"started": true, "exit_code": 127}'
gate_fails nf agent-failed
expect_grep '^agent-failed  *the agent exited with status 127$' "$TMP/out"
expect_grep '^gate: 1 of 10 rules failed$' "$TMP/err"
"$RUNBUNDLE" gate --json "$TMP/nf/b.rb" >"$TMP/json" || true
expect_eq '["the agent exited with status 127"]' "$(jq -c '.rules[] |
	select(.rule == "agent-failed") | .items' "$TMP/json")" \
	"agent-failed's items in JSON"
echo '{"version": 1, "allow_failure": true}' >"$TMP/nf/rules.json"
expect_status 0 "$RUNBUNDLE" gate --rules "$TMP/nf/rules.json" \
	"$TMP/nf/b.rb"
echo '{"version": 1, "allow_failure": "yes"}' >"$TMP/nf/bad.json"
expect_status 3 "$RUNBUNDLE" gate --rules "$TMP/nf/bad.json" "$TMP/nf/b.rb"
expect_grep 'allow_failure: "yes": expected true or false' "$TMP/err"
ended_run killed '{"started": true, "exit_code": 143, "signal": "TERM"}'
gate_fails killed agent-failed
expect_grep '^agent-failed  *the agent was killed by SIGTERM$' "$TMP/out"
ended_run stopped '{"started": false, "exit_code": 130,
	"stopped_by": "INT"}'
gate_fails stopped agent-failed
expect_grep "^agent-failed  *the agent did not start: SIGINT stopped the \
recording$" "$TMP/out"
gate_fails late timed-out --rules "$TMP/nf/rules.json"
gate_fails late timed-out

# A PATH search for a denied command counts once: the failed attempts
# that the same process follows with another are lookups, not attempts.
new_run probe
run_spec "$TMP/probe"
for dir in /usr/local/sbin /usr/local/bin /usr/sbin; do
	jq -cn --arg p "$dir/sudo" '{kind: "exec", data: {index: 1, pid: 11,
		path: $p, error: "ENOENT"}}' >>"$TMP/probe/spec"
done
jq -cn '{kind: "exec", data: {index: 1, pid: 11, path: "/usr/bin/sudo",
	argv: ["sudo", "id"]}}' >>"$TMP/probe/spec"
run_finish "$TMP/probe"
forge "$TMP/probe/b.rb" "$TMP/probe/spec"
gate_fails probe denied-command
expect_grep "^denied-command  *1 denied command attempted: '/usr/bin/sudo'$" \
	"$TMP/out"

# A replay that diverged.
new_run div
run_spec "$TMP/div" --divergence
run_finish "$TMP/div"
forge "$TMP/div/b.rb" "$TMP/div/spec"
gate_fails div diverged

# More files than the limit: 101 files changed against a limit of 100.
new_run many
i=0
while [ $i -lt 101 ]; do
	echo "$i" >"$TMP/many/after/f$i"
	i=$((i + 1))
done
rm "$TMP/many/after/src/a.c"
cp "$TMP/many/before/src/a.c" "$TMP/many/after/src/a.c"
run_spec "$TMP/many"
run_finish "$TMP/many"
forge "$TMP/many/b.rb" "$TMP/many/spec"
gate_fails many files-changed
expect_grep "101 files changed, more than the 100 allowed" "$TMP/out"

# One file over a limit of 0: the line counts it in the singular.
echo '{"version": 1, "max_files_changed": 0}' >"$TMP/zero.json"
gate_fails clean files-changed --rules "$TMP/zero.json"
expect_grep "^files-changed  *1 file changed, more than the 0 allowed$" \
	"$TMP/out"

# Several failures: one line each, in the order of the rules, and the
# JSON names the same ones.
new_run all
echo x >"$TMP/all/after/yarn.lock"
run_spec "$TMP/all" --exec /bin/su su --network 10.0.0.1:22 --divergence
run_finish "$TMP/all"
forge "$TMP/all/b.rb" "$TMP/all/spec"
expect_status 1 "$RUNBUNDLE" gate "$TMP/all/b.rb"
expect_eq "protected-path denied-command network diverged" \
	"$(awk '{print $1}' "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" \
	"failed rules"
expect_grep '^gate: 4 of 10 rules failed$' "$TMP/err"
"$RUNBUNDLE" gate --json "$TMP/all/b.rb" >"$TMP/json" || true
expect_eq '["protected-path","denied-command","network","diverged"]' \
	"$(jq -c '[.rules[] | select(.passed | not) | .rule]' "$TMP/json")" \
	"failed rules in JSON"

# No color reaches a file or NO_COLOR.
grep -q "$(printf '\033')" "$TMP/out" && fail "color in a file"

# A long line is cut to 80 columns on a terminal only: a file or a pipe
# (a CI log) gets the whole detail.
new_run long
for name in first-protected-file second-protected-file \
	third-protected-file fourth-protected-file; do
	echo x >"$TMP/long/after/$name.lock"
done
run_spec "$TMP/long"
run_finish "$TMP/long"
forge "$TMP/long/b.rb" "$TMP/long/spec"
echo '{"version": 1, "protected_paths": ["*.lock"]}' >"$TMP/long/rules.json"
gate_fails long protected-path --rules "$TMP/long/rules.json"
grep -q '\.\.\.$' "$TMP/out" && fail "a line to a file is cut"
expect_grep "'second-protected-file.lock', 'third-protected-file.lock'$" \
	"$TMP/out"
if command -v script >/dev/null; then
	script -qec "env NO_COLOR=1 '$RUNBUNDLE' gate --rules \
		'$TMP/long/rules.json' '$TMP/long/b.rb'" /dev/null \
		>"$TMP/tty" || true
	expect_grep '\.\.\..$' "$TMP/tty"
	tr -d '\r' <"$TMP/tty" | awk 'length > 80 { exit 1 }' ||
		fail "a line on a terminal is over 80 columns"
fi

# On a terminal the rule names are red, unless NO_COLOR is set.
expect_red_on_tty protected-path '^protected-path' \
	"'$RUNBUNDLE' gate '$TMP/all/b.rb'"

# Not a bundle: an error, not a failed rule.
echo "not sqlite" >"$TMP/junk.rb"
expect_status 3 "$RUNBUNDLE" gate "$TMP/junk.rb"
expect_grep '^runbundle: ' "$TMP/err"
expect_status 2 "$RUNBUNDLE" gate
exit 0
