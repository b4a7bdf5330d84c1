#!/bin/sh
# A replay whose sandbox lacks one of the recorded mounts (a read-only
# path of the policy that no longer exists) names that mount in one
# line, instead of shifting every later mount of the list by one. The
# agent lived there, so the replay could not run it: exit 3, not a
# divergence.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/ws" "$TMP/agents"
printf '#!/bin/sh\necho hello >out.txt\n' >"$TMP/agents/ok.sh"
chmod +x "$TMP/agents/ok.sh"
cat >"$TMP/policy.json" <<JSON
{"version": 1, "filesystem": {"read_only": ["/usr", "/bin", "/sbin",
	"/lib", "/lib64", "/etc", "$TMP/agents"]}}
JSON
cd "$TMP/ws"
expect_status 0 "$RUNBUNDLE" record -o "$TMP/run.rb" \
	--policy "$TMP/policy.json" -- "$TMP/agents/ok.sh"

mv "$TMP/agents" "$TMP/agents.gone"
expect_status 3 "$RUNBUNDLE" replay --trust-policy \
	-o "$TMP/replay.rb" "$TMP/run.rb"
expect_grep "^runbundle: cannot run the agent: '$TMP/agents/ok.sh': \
it is not found" "$TMP/err"
expect_grep "^note: the sandbox differs from the recording's:" "$TMP/err"
expect_grep "^mounts $TMP/agents: recorded ro,nosuid,nodev bind, now \
missing$" "$TMP/err"
expect_eq 1 "$(grep -c '^mounts' "$TMP/err")" "the lines about mounts"
if grep -q 'mounts\[' "$TMP/err"; then
	cat "$TMP/err" >&2
	fail "a mount is compared by position"
fi
