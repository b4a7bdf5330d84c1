#!/bin/sh
# What a replay refuses, or reports as "could not run" rather than as a
# divergence: an agent that is not on this machine (for each replay of
# a batch too), a --repeat directory with another batch in it, an -o
# in a missing directory, an unfinalized recording, and --on-mismatch
# forward without an upstream.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# A recording whose agent lives outside the workspace, in a directory
# that the policy binds.
mkdir "$TMP/agents" "$TMP/flags"
cat >"$TMP/policy.json" <<JSON
{"version": 1, "filesystem": {"read_only": ["/usr", "/bin", "/sbin",
	"/lib", "/lib64", "/etc", "$TMP/agents", "$TMP/flags"]}}
JSON
new_workspace "$TMP/ws" 'echo one' 'echo two'
cp "$TMP/ws/agent.sh" "$TMP/agents/agent.sh"
chmod +x "$TMP/agents/agent.sh"
(cd "$TMP/ws" && "$RUNBUNDLE" record -o "$TMP/run.rb" \
	--model-script "$TMP/ws.script.json" --policy "$TMP/policy.json" \
	-- "$TMP/agents/agent.sh" </dev/null >/dev/null 2>&1)
"$RUNBUNDLE" verify "$TMP/run.rb" >/dev/null

# The agent is gone: exit 3 and its path, for one replay and a batch.
mv "$TMP/agents" "$TMP/agents.gone"
expect_status 3 "$RUNBUNDLE" replay --trust-policy "$TMP/run.rb"
expect_grep "^runbundle: cannot run the agent: '$TMP/agents/agent.sh': it \
is not found in the replay's sandbox" "$TMP/err"
expect_grep "^hint: install it at that path" "$TMP/err"
if grep -q 'diverged\|divergence' "$TMP/out"; then
	cat "$TMP/out" >&2
	fail "a missing agent was reported as a divergence"
fi
expect_status 3 "$RUNBUNDLE" replay --trust-policy --repeat 2 "$TMP/run.rb"
expect_grep "^2 replays: 0 identical, 0 volatile differences only, 0 diverged, \
2 failed to run" "$TMP/out"
expect_grep "^runbundle: replay 2 could not run: cannot run the agent: \
'$TMP/agents/agent.sh'" "$TMP/err"
mv "$TMP/agents.gone" "$TMP/agents"

# A second batch into the same directory is refused before it runs, and
# the first batch's files stay as they were.
expect_status 0 "$RUNBUNDLE" replay --trust-policy \
	--repeat 1 -o "$TMP/rep" "$TMP/run.rb"
sum=$(cat "$TMP/rep"/* | cksum)
expect_status 3 "$RUNBUNDLE" replay --trust-policy \
	--repeat 1 -o "$TMP/rep" "$TMP/run.rb"
expect_grep "^runbundle: cannot write the replays into directory: \
'$TMP/rep': not empty" "$TMP/err"
expect_eq "$sum" "$(cat "$TMP/rep"/* | cksum)" "the first batch's files"
mkdir "$TMP/empty"
expect_status 0 "$RUNBUNDLE" replay --trust-policy \
	--repeat 1 -o "$TMP/empty" "$TMP/run.rb"

# An -o that exists is rejected before anything else: before the notes
# on the recorded policy, and before the policy's own rejection.
for trust in --trust-policy --keep; do
	expect_status 3 "$RUNBUNDLE" replay "$trust" --repeat 1 \
		-o "$TMP/rep" "$TMP/run.rb"
	expect_grep "^runbundle: cannot write the replays into directory: \
'$TMP/rep': not empty" "$TMP/err"
	expect_status 3 "$RUNBUNDLE" replay "$trust" --step 1 \
		-o "$TMP/run.rb" "$TMP/run.rb"
	expect_grep "^runbundle: cannot write the replays into directory: \
'$TMP/run.rb': not a directory$" "$TMP/err"
	expect_status 3 "$RUNBUNDLE" replay "$trust" -o "$TMP/run.rb" \
		"$TMP/run.rb"
	expect_grep "^runbundle: cannot create the bundle: '$TMP/run.rb': it \
exists$" "$TMP/err"
	expect_grep '^hint: remove it, or choose a new name with -o$' \
		"$TMP/err"
	expect_eq 2 "$(wc -l <"$TMP/err")" "lines on stderr"
done

# So is an -o in a directory that is missing, with the fix.
for repeat in "" "--repeat 1"; do
	expect_status 3 "$RUNBUNDLE" replay --trust-policy $repeat \
		-o "$TMP/missing/out" "$TMP/run.rb"
	expect_grep "^runbundle: cannot write the .*: '$TMP/missing/out': \
its directory cannot be opened: No such file or directory$" "$TMP/err"
	expect_grep "^hint: create the directory '$TMP/missing'" "$TMP/err"
	expect_eq 2 "$(wc -l <"$TMP/err")" "lines on stderr"
done

# Forward needs an upstream, and a scripted recording has none.
expect_status 2 "$RUNBUNDLE" replay --trust-policy \
	--on-mismatch forward "$TMP/run.rb"
expect_grep "^runbundle: cannot forward a request that matches no \
recording: '$TMP/run.rb': the run was recorded with a model script" \
	"$TMP/err"

# A recording killed with SIGKILL while its agent waits for the flag
# to go away.
cat >"$TMP/agents/wait.sh" <<AGENT
#!/bin/sh
echo x >waiting
while [ -e "$TMP/flags/hold" ]; do sleep 0.05; done
AGENT
chmod +x "$TMP/agents/wait.sh"
: >"$TMP/flags/hold"
mkdir "$TMP/kws"
(cd "$TMP/kws" && exec "$RUNBUNDLE" record -o "$TMP/killed.rb" \
	--policy "$TMP/policy.json" -- "$TMP/agents/wait.sh" \
	</dev/null >/dev/null 2>&1) &
rec=$!
wait_file "$TMP/kws/waiting" "the agent did not start"
kill -KILL "$rec"
wait "$rec" || true
rm "$TMP/flags/hold"
expect_status 3 "$RUNBUNDLE" replay --trust-policy "$TMP/killed.rb"
expect_grep "^runbundle: the bundle is incomplete: '$TMP/killed.rb': it \
was not finalized" "$TMP/err"
expect_grep "^hint: pass --allow-incomplete" "$TMP/err"
expect_status 1 "$RUNBUNDLE" replay --trust-policy \
	--allow-incomplete "$TMP/killed.rb"
expect_grep "^note: '$TMP/killed.rb' was not finalized" "$TMP/err"
expect_grep 'the recording has no end' "$TMP/out"
if grep -q -- '-1' "$TMP/out"; then
	cat "$TMP/out" >&2
	fail "the report shows the sentinel exit status"
fi
replay_json "$TMP/killed.rb" --trust-policy --allow-incomplete
expect_eq null "$(jqr '.differences[] | select(.final) | .exit.recorded')" \
	"the recorded exit status of a run without an end"

# A recorder killed with SIGKILL cannot remove the pids cgroup that it
# made for its sandbox, which is named after its pid. It is empty now.
for d in /sys/fs/cgroup/pids/runbundle-"$rec" \
	/sys/fs/cgroup/pids/runbundle-"$rec"-*; do
	[ ! -d "$d" ] || rmdir "$d" 2>/dev/null || true
done
