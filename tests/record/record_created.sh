#!/bin/sh
# The default read-only part .git/hooks, in a workspace without .git, is
# made for the run and bound read-only. The snapshots leave it out while
# it is empty. The agent runs one command, then sends the model one
# request, so that one snapshot is taken while the part exists. As
# ourselves, and as the test user when we are root.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
command -v curl >/dev/null || skip "curl is missing"
command -v jq >/dev/null || skip "jq is missing"
runners_setup

cat >"$TMP/agent.sh" <<'EOF'
sh -c "$1"
body='{"model":"m","messages":[{"role":"user","content":"go"}]}'
curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
	--data-binary "$body" \
	"$OPENAI_BASE_URL/chat/completions" >/dev/null
EOF
echo '{"turns": [{"text": "ok"}]}' >"$TMP/script.json"
# The built-in parts without .git/config, which would make the whole
# of a created .git read-only, so that the agent can write beside
# .git/hooks.
printf '{"version": 1, "workspace": {"read_only": [".git/hooks"]}}\n' \
	>"$TMP/hooks.json"
chmod 644 "$TMP/agent.sh" "$TMP/script.json" "$TMP/hooks.json"

# record_case RUNNER NAME COMMAND: record the agent running COMMAND in a
# new workspace $ws without .git, into $bundle.
record_case() {
	ws=$TMP/$1-$2
	bundle=$TMP/$1-$2.rb
	mkdir "$ws"
	cp "$TMP/agent.sh" "$ws/agent.sh"
	echo kept >"$ws/kept.txt"
	[ "$1" = user ] && chown -R "$TEST_USER:" "$ws"
	set +e
	(cd "$ws" && run_as "$1" "$rb" record -o "$bundle" \
		--policy "$TMP/hooks.json" \
		--model-script "$TMP/script.json" -- sh ./agent.sh "$3" \
		</dev/null >"$TMP/out" 2>"$TMP/err")
	status=$?
	set -e
}

# workspace_changes BUNDLE: one line per workspace event, "AT CHANGES
# ROOT", where CHANGES counts the paths changed since the previous one.
workspace_changes() {
	$EVENTS "$1" kinds | awk '$2 == "workspace" { print $1 }' |
		while read -r seq; do
			$EVENTS "$1" data "$seq" | jq -r '"\(.at) \(.changes |
			.added + .modified + .deleted + .mode) \(.root)"'
		done
}

# workspace_data BUNDLE N: the data of the Nth workspace event.
workspace_data() {
	seq=$($EVENTS "$1" kinds | awk '$2 == "workspace" { print $1 }' |
		sed -n "$2p")
	$EVENTS "$1" data "$seq"
}

# listing BUNDLE STEP: the paths of the workspace at one step, on one
# line, directories with a trailing '/'.
listing() {
	"$rb" ls -r "$1" "$2" | awk '{ print $NF }' | LC_ALL=C sort |
		tr '\n' ' '
}

check_created_mount() {
	seq=$($EVENTS "$1" kinds | awk '$2 == "sandbox" { print $1 }')
	[ -n "$seq" ] || fail "'$1' has no sandbox event"
	expect_eq ".git/hooks .git" "$($EVENTS "$1" object "$seq" |
		jq -r '.mounts[] | select(.created) |
		"\(.covers) \(.created)"')" \
		"the part made for the run in the sandbox event of $1"
}

check_nothing() {
	record_case "$1" nothing 'test -d .git/hooks && ! test -w .git/hooks'
	expect_recorded 0
	check_created_mount "$bundle"
	workspace_changes "$bundle" >"$TMP/changes"
	expect_eq "initial request final" \
		"$(awk '{ print $1 }' "$TMP/changes" | tr '\n' ' ' |
			sed 's/ $//')" "the workspace events of $bundle"
	expect_eq 0 "$(awk '{ n += $2 } END { print n }' "$TMP/changes")" \
		"the paths changed in $bundle"
	expect_eq 1 "$(awk '{ print $3 }' "$TMP/changes" | sort -u |
		wc -l)" "the snapshot roots of $bundle"
	expect_eq 0 "$(last_data "$bundle" end .counts.files_changed)" \
		"end.counts.files_changed of $bundle"
	"$rb" inspect "$bundle" >"$TMP/inspect"
	expect_grep '^files  *0 changed' "$TMP/inspect"
	"$rb" log "$bundle" >"$TMP/log"
	expect_grep 'request, snapshot .*: 0 added, 0 modified' "$TMP/log"
	for step in initial 1 final; do
		expect_eq "agent.sh kept.txt " "$(listing "$bundle" $step)" \
			"the files of $bundle at step $step"
	done
	[ ! -e "$ws/.git" ] || fail "$ws/.git is left on the host"
}

check_hook() {
	record_case "$1" hook '(mkdir -p .git/hooks &&
		echo x >.git/hooks/pre-commit) 2>&1'
	expect_recorded 0
	expect_grep 'pre-commit: Read-only file system' "$TMP/out"
	check_created_mount "$bundle"
	$EVENTS "$bundle" kinds | awk '$2 == "violation" { print $1 }' |
		while read -r seq; do
			$EVENTS "$bundle" data "$seq"
		done >"$TMP/violations"
	expect_eq "write $ws/.git/hooks/pre-commit" \
		"$(jq -r '"\(.source) \(.path)"' "$TMP/violations")" \
		"the violation of $bundle"
	expect_eq 0 "$(last_data "$bundle" end .counts.files_changed)" \
		"end.counts.files_changed of $bundle"
	for step in 1 final; do
		expect_eq "agent.sh kept.txt " "$(listing "$bundle" $step)" \
			"the files of $bundle at step $step"
	done
	[ ! -e "$ws/.git" ] || fail "$ws/.git is left on the host"
}

check_config() {
	record_case "$1" config 'echo y >.git/config'
	expect_recorded 0
	workspace_changes "$bundle" >"$TMP/changes"
	expect_eq "0 1 0" "$(awk '{ print $2 }' "$TMP/changes" |
		tr '\n' ' ' | sed 's/ $//')" \
		"the paths changed at each snapshot of $bundle"
	expect_eq '[["A",".git/config"]]' \
		"$(workspace_data "$bundle" 2 | jq -c .changes.paths)" \
		"the paths changed before the request in $bundle"
	expect_eq 1 "$(last_data "$bundle" end .counts.files_changed)" \
		"end.counts.files_changed of $bundle"
	for step in 1 final; do
		expect_eq ".git/ .git/config agent.sh kept.txt " \
			"$(listing "$bundle" $step)" \
			"the files of $bundle at step $step"
	done
	[ -f "$ws/.git/config" ] || fail "$ws/.git/config is missing"
	[ ! -e "$ws/.git/hooks" ] || fail "$ws/.git/hooks is left on the host"
}

for runner in $runners; do
	rb=$RUNBUNDLE
	[ "$runner" = user ] && rb=$UNPRIV_RUNBUNDLE
	check_nothing "$runner"
	check_hook "$runner"
	check_config "$runner"
done
exit 0
