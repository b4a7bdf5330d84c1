#!/bin/sh
# make -j2 starts the next recipe when either running one ends, so two
# runs of one Makefile start the same commands in another order. Each
# command is compared with the same command of the other run, or one of
# the same program, not with the one that started in its place. So a
# reordering is no divergence, and a real change is named at the
# command that changed.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
command -v make >/dev/null || skip "make is missing"
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is missing"

# What the recipes run and how long a1 and b1 sleep come from outside
# the workspace, bound read-only, where the test changes them between
# runs. The sleeps' argv stays the same.
control_dir
printf '%s\n' 'import json, sys, time' \
	"time.sleep(json.load(open('$ctl/delays.json'))[sys.argv[1]])" \
	>"$ctl/nap.py"
printf 'exit 3\n' >"$ctl/fail.sh"
printf 'exit 0\n' >"$ctl/ok.sh"
script_of 1 "$TMP/script.json"
mkdir "$TMP/ws"
printf '%s\n' "include $ctl/vars.mk" 'all: a2 b2' \
	'a2: a1' '	$(A_CMD)' \
	'b2: b1' '	$(B_CMD)' '	-$(B_MORE)' \
	'a1:' "	/usr/bin/python3 $ctl/nap.py a" \
	'b1:' "	/usr/bin/python3 $ctl/nap.py b" \
	'.PHONY: all a1 a2 b1 b2' >"$TMP/ws/Makefile"

# order FIRST: the one of a1 and b1 that ends first.
order() {
	if [ "$1" = a ]; then
		echo '{"a": 0, "b": 0.5}' >"$ctl/delays.json"
	else
		echo '{"a": 0.5, "b": 0}' >"$ctl/delays.json"
	fi
}

# vars A_CMD B_CMD [B_MORE]
vars() {
	printf 'A_CMD = %s\nB_CMD = %s\nB_MORE = %s\n' "$1" "$2" "${3:-}" \
		>"$ctl/vars.mk"
}

# record_make BUNDLE: record make -j2 in the workspace.
record_make() {
	(cd "$TMP/ws" && "$RUNBUNDLE" record -o "$1" \
		--policy "$TMP/policy.json" --model-script "$TMP/script.json" \
		-- make -j2 </dev/null >"$TMP/record.out" \
		2>"$TMP/record.err") || { cat "$TMP/record.err" >&2;
		fail "recording make -j2 failed"; }
}

# diff_json A B: runbundle diff --json into $TMP/json, status in $status.
diff_json() {
	set +e
	"$RUNBUNDLE" diff --json "$1" "$2" >"$TMP/json" 2>"$TMP/diff.err"
	status=$?
	set -e
}

# The processes that differ: "command difference other", one a line.
procs() {
	jqr '[.differences[].processes[] |
		"\(.command) \(.difference) \(.other // "-")"] | .[]'
}

# The recipes of a2 and b2 start in the order that a1 and b1 end.
vars 'true a' 'echo b'
order a
record_make "$TMP/ab.rb"
order b
record_make "$TMP/ba.rb"
"$RUNBUNDLE" log "$TMP/ba.rb" | grep ' exec ' | tail -2 >"$TMP/log.ba"
expect_eq "echo b" "$(sed -n '1s/.*\] //p' "$TMP/log.ba")" \
	"the first recipe started when b1 ended first"
diff_json "$TMP/ab.rb" "$TMP/ba.rb"
expect_eq "0 identical" "$status $(jqr .verdict)" \
	"the same commands in another order"

# Both recipes changed: each is named with the command that it became,
# not with the other recipe that started in its place.
vars 'true A' 'echo B'
record_make "$TMP/ba2.rb"
diff_json "$TMP/ab.rb" "$TMP/ba2.rb"
expect_eq 1 "$status" "diff of changed recipes"
expect_eq "echo b argv echo B
true a argv true A" "$(procs | sort)" "the recipes that changed"

# One recipe exits otherwise: it alone differs, in its status.
vars 'true a' "-sh $ctl/fail.sh"
order a
record_make "$TMP/fail-ab.rb"
order b
printf 'exit 0\n' >"$ctl/fail.sh"
record_make "$TMP/fail-ba.rb"
printf 'exit 3\n' >"$ctl/fail.sh"
diff_json "$TMP/fail-ab.rb" "$TMP/fail-ba.rb"
expect_eq 1 "$status" "diff of a recipe that exits otherwise"
expect_eq "sh $ctl/fail.sh status exit 0" "$(procs)" \
	"the recipe that exits otherwise"

# A replay starts one more recipe beside a command whose argv has a
# volatile value: the extra one is the one reported, and the --repeat
# table counts the statuses of the command that the report compared.
uuid() {
	cat /proc/sys/kernel/random/uuid
}
vars "sh $ctl/ok.sh $(uuid)" 'echo b'
order a
record_make "$TMP/uuid.rb"
vars "sh $ctl/ok.sh $(uuid)" 'echo b' "sh $ctl/fail.sh"
order b
replay_json "$TMP/uuid.rb" --trust-policy
expect_replay_status 1
expect_eq "sh $ctl/fail.sh extra sh $ctl/fail.sh" "$(procs)" \
	"the recipe that only the replay ran"
replay_json "$TMP/uuid.rb" --trust-policy --repeat 2
expect_replay_status 1
expect_eq "" "$(jqr '.commands[] | select(.command | contains("ok.sh")) |
	.statuses[] | select(.status != "exit 0") | .status')" \
	"statuses of the recipe with a volatile argv"
