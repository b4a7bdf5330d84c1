#!/bin/sh
# A step's explanation names three processes that differ and counts the
# rest, in the singular when one is left.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
control_dir

# count N: record a step of N commands whose exit status comes from
# $ctl/code, and replay it with another status.
count() {
	echo 0 >"$ctl/code"
	rm -rf "$TMP/ws"
	each="sh -c 'exit \$(cat $ctl/code)'"
	new_workspace "$TMP/ws" "for i in \$(seq $1); do $each; done; true"
	record_in "$TMP/ws" "$TMP/run$1.rb" --policy "$TMP/policy.json"
	echo 1 >"$ctl/code"
	replay_json "$TMP/run$1.rb" --trust-policy
	expect_replay_status 1
}

count 4
jqr .first_divergence.explanation >"$TMP/out.txt"
expect_grep '; 1 more process differs$' "$TMP/out.txt"
count 5
jqr .first_divergence.explanation >"$TMP/out.txt"
expect_grep '; 2 more processes differ$' "$TMP/out.txt"
