#!/bin/sh
# The agent-failed line of gate shows a signal name from the end event
# without its control characters, as log shows it, so that a crafted
# bundle cannot send escape sequences to the terminal of a CI log.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

esc=$(printf '\033')
for key in signal stopped_by; do
	d=$TMP/$key
	mkdir -p "$d/before" "$d/after"
	run_spec "$d" --no-end
	run_finish "$d"
	if [ "$key" = signal ]; then
		end='{"kind": "end", "data": {"signal": "KILL\u001b[2J"}}'
	else
		end='{"kind": "end", "data": {"started": false,
			"stopped_by": "INT\u001b[2J"}}'
	fi
	echo "$end" | jq -c . >>"$d/spec"
	echo '{"finalize": true}' >>"$d/spec"
	forge "$d/b.rb" "$d/spec"

	expect_status 1 "$RUNBUNDLE" gate "$d/b.rb"
	grep -q "$esc" "$TMP/out" && fail "an escape in the $key line"
	grep -q '^agent-failed .*SIG[A-Z]*?\[2J' "$TMP/out" ||
		fail "no agent-failed line with the $key shown"

	expect_status 1 "$RUNBUNDLE" gate --json "$d/b.rb"
	detail=$(jq -r '.rules[] | select(.rule == "agent-failed") |
		.detail' "$TMP/out")
	case $detail in
	*"$esc"*) fail "an escape in the --json detail of $key" ;;
	esac
done
exit 0
