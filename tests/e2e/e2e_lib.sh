# e2e_lib.sh - helpers for the end-to-end tests of the Agents SDK
# example, sourced after lib.sh. The example's node_modules comes from
# 'npm ci' in scripts/setup; without it the tests are skipped.
command -v node >/dev/null || skip "node is missing"
command -v jq >/dev/null || skip "jq is missing"
EXAMPLE=$SOURCE_DIR/examples/agents-sdk
[ -d "$EXAMPLE/node_modules/@openai/agents" ] ||
	skip "no @openai/agents in '$EXAMPLE/node_modules' (npm ci failed?)"

# Replays make their directories here, so that $TMP's cleanup takes
# along what they leave.
mkdir -p "$TMP/tmp"
chmod 1777 "$TMP/tmp"
export TMPDIR="$TMP/tmp"

# sdk_record DIR [RECORD-OPTION...]: record the example into DIR/run.rb
# (run.sh's layout), with AGENT_API, FLAKY and TRACING taken from the
# caller. The agent must succeed, and the bundle must verify.
sdk_record() {
	RUNBUNDLE=$RUNBUNDLE "$EXAMPLE/run.sh" "$@" </dev/null \
		>"$TMP/record.out" 2>"$TMP/record.err" || {
		cat "$TMP/record.err" >&2
		fail "recording the example into '$1' failed"
	}
	"$RUNBUNDLE" verify "$1/run.rb" >/dev/null 2>&1 ||
		fail "the recording '$1/run.rb' does not verify"
}
