#!/bin/sh
# The smallest recordings: exit statuses, the agent's output, stdin, and
# the closing lines.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"

record "$TMP/hi.rb" -- sh -c 'echo hi; echo oops >&2'
expect_recorded 0
expect_eq "hi" "$(cat "$TMP/out")" "the agent's stdout shown live"
expect_grep '^oops$' "$TMP/err"
expect_grep "^bundle: $TMP/hi.rb\$" "$TMP/err"
expect_grep "^summary: .* 0 model calls, 1 process, 0 files changed, \
0 policy violations\$" "$TMP/err"
expect_eq "hi" "$($EVENTS "$TMP/hi.rb" output stdout)" "stored stdout"
expect_eq "oops" "$($EVENTS "$TMP/hi.rb" output stderr)" "stored stderr"
expect_eq "record fingerprint snapshot workspace" \
	"$($EVENTS "$TMP/hi.rb" kinds | head -4 | awk '{ print $2 }' |
	   tr '\n' ' ' | sed 's/ $//')" "the first events"
expect_eq "end" "$($EVENTS "$TMP/hi.rb" kinds | tail -1 | awk '{ print $2 }')" \
	"the last event"
expect_eq "0" "$(last_data "$TMP/hi.rb" end .exit_code)" "end.exit_code"

# The agent's status is runbundle's.
record "$TMP/seven.rb" -- sh -c 'exit 7'
expect_recorded 7
record "$TMP/killed.rb" -- sh -c 'kill -KILL $$'
expect_recorded 137
expect_eq "KILL" "$(last_data "$TMP/killed.rb" end .signal)" "end.signal"
record "$TMP/missing.rb" -- no-such-agent-here
expect_recorded 127
expect_eq "ENOENT" \
	"$($EVENTS "$TMP/missing.rb" last exec | jq -r .error)" "failed exec"

# /proc/self names the agent to the kernel but the tracer to a lookup by
# the tracer, and the sandbox's /proc has no pid of the tracer. An exec
# through /proc/self/cwd of a file without execute permission, after a
# failed one, must be recorded with the kernel's EACCES.
: >noexec
record "$TMP/procself.rb" -- bash -c 'shopt -s execfail
	exec /nonexistent 2>/dev/null
	exec /proc/self/cwd/noexec 2>/dev/null
	exit 0'
expect_recorded 0
errors=$($EVENTS "$TMP/procself.rb" kinds |
	awk '$2 == "exec" { print $1 }' |
	while read -r seq; do
		$EVENTS "$TMP/procself.rb" data "$seq" |
			jq -r '.error // "ran"'
	done | tr '\n' ' ')
expect_eq "ENOENT ENOENT ENOENT ran ENOENT EACCES " "$errors" \
	"the errors of the execs"
rm noexec

# The sandbox's /tmp is its own. A script reached through a link in the
# workspace to an absolute path there is the sandbox's file, not the
# host's file at the same path.
mkdir "$TMP/decoy"
printf '#!/bin/sh\nexit 3\n' >"$TMP/decoy/run"
chmod 755 "$TMP/decoy/run"
record "$TMP/link.rb" -- sh -c 'mkdir -p "$1" &&
	printf "#!/bin/sh\\nexit 0\\n" >"$1/run" && chmod 755 "$1/run" &&
	ln -s "$1" link && ./link/run' sh "$TMP/decoy"
expect_recorded 0
rm link
sum=$(printf '#!/bin/sh\nexit 0\n' | sha256sum | cut -d' ' -f1)
scripts=$($EVENTS "$TMP/link.rb" kinds | awk '$2 == "exec" { print $1 }' |
	while read -r seq; do
		$EVENTS "$TMP/link.rb" object "$seq" |
			jq -r '.script // empty | .path + " " + .sha256'
	done)
expect_eq "$TMP/decoy/run $sum" "$scripts" "the sandbox's script"

# A stdin that is not a terminal is not the agent's: it reads /dev/null.
set +e
echo secret-input | "$RB" record -o "$TMP/stdin.rb" -- cat \
	>"$TMP/out" 2>"$TMP/err"
status=$?
set -e
bundle=$TMP/stdin.rb
expect_recorded 0
expect_eq "" "$(cat "$TMP/out")" "the agent's stdin"
expect_eq "null" "$($EVENTS "$TMP/stdin.rb" data 1 | jq -r .stdin)" \
	"record.stdin"

# A terminal stdin is the agent's; script(1) provides the terminal.
if command -v script >/dev/null; then
	printf 'typed\n' | script -qec "'$RB' record -o '$TMP/tty.rb' -- \
		sh -c 'read line; echo got:\$line'" \
		/dev/null >"$TMP/out" 2>&1 ||
		fail "record with a terminal stdin failed"
	expect_grep 'got:typed' "$TMP/out"
	expect_eq "terminal" "$($EVENTS "$TMP/tty.rb" data 1 | jq -r .stdin)" \
		"record.stdin with a terminal"
fi

# Labels and the command line are in the first event.
record "$TMP/labels.rb" --label ci=yes --label job=42 -- true
expect_recorded 0
expect_eq '{"ci":"yes","job":"42"}' \
	"$($EVENTS "$TMP/labels.rb" data 1 | jq -c .labels)" "labels"
expect_eq '["true"]' "$($EVENTS "$TMP/labels.rb" data 1 | jq -c .argv)" "argv"

# An existing bundle is never overwritten: a bundle's place that cannot
# be used is 3, as the run never starts.
record "$TMP/hi.rb" -- true
expect_eq 3 "$status" "record onto an existing bundle"
expect_grep "^runbundle: .*hi.rb" "$TMP/err"
"$RB" verify "$TMP/hi.rb" >/dev/null || fail "the existing bundle changed"

# The side files of a removed bundle would be replayed into a new one.
: >"$TMP/left.rb-wal"
record "$TMP/left.rb" -- true
expect_eq 3 "$status" "record beside a leftover WAL"
expect_grep "leftover 'wal' file" "$TMP/err"
[ -e "$TMP/left.rb" ] && fail "a bundle was created beside the leftover"
# Both side files are named at once, so that one removal clears the way.
: >"$TMP/left.rb-shm"
record "$TMP/left.rb" -- true
expect_eq 3 "$status" "record beside a leftover WAL and SHM"
expect_grep "leftover 'wal' and 'shm' files are beside it" "$TMP/err"
expect_grep "^hint: remove '$TMP/left.rb-wal' and '$TMP/left.rb-shm'" \
	"$TMP/err"

# Usage errors.
expect_status 2 "$RB" record
expect_status 2 "$RB" record --label nokey -- true
expect_status 2 "$RB" record --upstream a=http://127.0.0.1:9 \
	--model-script x.json -- true
expect_status 3 "$RB" record --workspace "$TMP/nowhere" -- true

# An upstream URL that the gateway would reject fails before the bundle
# exists, so the same -o can be used again.
expect_status 2 "$RB" record -o "$TMP/cred.rb" \
	--upstream 'x=http://user:pw@127.0.0.1:9' -- true
expect_grep "^runbundle: invalid upstream: 'x': \
the URL carries a user name or password" "$TMP/err"
[ ! -e "$TMP/cred.rb" ] || fail "a rejected upstream left a bundle"
# record has no --auth, so its hint names the variable it reads the key
# from, here for an upstream name that is not a valid variable name.
expect_status 2 "$RB" record -o "$TMP/cred.rb" \
	--upstream 'my-llm=http://user:pw@127.0.0.1:9' -- true
expect_grep "^hint: drop the credentials from the URL and set MY_LLM_API_KEY \
in runbundle's environment to the key" "$TMP/err"
if grep -q -e "--auth" "$TMP/err"; then
	fail "record's hint names --auth, which only the gateway has"
fi
# The hint follows the error, before the usage lines, and replay's
# forwarding upstreams get the same check and hint.
expect_eq "hint: drop" "$(sed -n 2p "$TMP/err" | cut -c1-10)" \
	"the line after the error"
expect_status 2 "$RB" replay --on-mismatch forward \
	--upstream 'my-llm=http://user:pw@127.0.0.1:9' "$TMP/none.rb"
expect_grep "^hint: drop the credentials from the URL and set MY_LLM_API_KEY \
in runbundle's environment to the key" "$TMP/err"
expect_status 2 "$RB" replay --on-mismatch forward \
	--upstream 'a=ftp://127.0.0.1:9' "$TMP/none.rb"
expect_grep "^hint: give it as NAME=http://HOST:PORT/PATH" "$TMP/err"

# So does a workspace that the sandbox would refuse: here one inside a
# read-only path of the policy.
mkdir -p "$TMP/ro/ws"
printf '{"version": 1, "filesystem": {"read_only": ["/usr", "%s"]}}\n' \
	"$TMP/ro" >"$TMP/ro.json"
expect_status 3 "$RB" record -o "$TMP/ro.rb" --policy "$TMP/ro.json" \
	--workspace "$TMP/ro/ws" -- true
expect_grep "^runbundle: cannot start the sandbox: '$TMP/ro/ws': \
the workspace would be, contain or lie inside the system or policy path \
'$TMP/ro'$" "$TMP/err"
[ ! -e "$TMP/ro.rb" ] || fail "a refused workspace left a bundle"

# And a read-only part below a symlink, which the sandbox could not
# protect.
mkdir -p "$TMP/linked/ws" "$TMP/linked/git/hooks"
ln -s ../git "$TMP/linked/ws/.git"
expect_status 3 "$RB" record -o "$TMP/linked.rb" \
	--workspace "$TMP/linked/ws" -- true
expect_grep "^runbundle: cannot open the workspace part: \
'$TMP/linked/ws/.git': Too many levels of symbolic links$" "$TMP/err"
expect_grep '^hint: .*not a symlink' "$TMP/err"
[ ! -e "$TMP/linked.rb" ] || fail "a part below a symlink left a bundle"
exit 0
