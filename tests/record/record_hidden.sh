#!/bin/sh
# The workspace's hidden parts (the policy's workspace.hidden) are in no
# snapshot: the agent cannot read them, and neither can a reader of the
# bundle, by cat, ls, export, checkout or the objects themselves. The
# record event lists the parts that existed, with their types, and a
# replay covers them again: it replays identical.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir -p "$ws/sec" "$ws/src"
echo SECRET=hunter2 >"$ws/.env"
echo topsecret >"$ws/sec/key"
echo keep >"$ws/src/.env"
cat >"$TMP/policy.json" <<'JSON'
{"version": 1, "workspace": {"hidden": [".env", "sec", "missing"]}}
JSON

cd "$ws"
record "$TMP/h.rb" --policy "$TMP/policy.json" -- \
	sh -c 'cat .env sec/key; echo new >src/new; [ -e .env ] && [ -d sec ]'
expect_recorded 0
bundle=$TMP/h.rb
if grep -q 'hunter2\|topsecret' "$TMP/out"; then
	fail "the agent read a hidden part"
fi

# Only the whole path is hidden: src/.env is kept.
expect_status 0 "$RB" ls -r "$bundle"
expect_eq "src/
src/.env
src/new" "$(awk '{ print $NF }' "$TMP/out" | sort)" "the final snapshot's ls"
expect_status 3 "$RB" cat "$bundle" .env
expect_grep "no such path: '.env'" "$TMP/err"
expect_status 3 "$RB" cat "$bundle" sec/key
first=$($EVENTS "$bundle" kinds |
	awk '$2 == "snapshot" { print $1; exit }')
expect_status 0 "$RB" checkout "$bundle" "$first" "$TMP/first"
[ ! -e "$TMP/first/.env" ] && [ ! -e "$TMP/first/sec" ] ||
	fail "the initial snapshot has a hidden part"

# No object of the bundle contains the secrets.
expect_status 0 "$RB" export-bundle -o "$TMP/all.tar.zst" "$bundle"
mkdir "$TMP/all"
tar -C "$TMP/all" --zstd -xf "$TMP/all.tar.zst"
if grep -rq 'hunter2\|topsecret' "$TMP/all"; then
	fail "the bundle contains a hidden part's content"
fi

# The record event lists the parts found, each snapshot event every
# part it left out.
parts='[{"path":".env","type":"file"},{"path":"sec","type":"directory"}]'
expect_eq "$parts" "$(last_data "$bundle" record .hidden | jq -c .)" \
	"record.hidden"
for seq in $($EVENTS "$bundle" kinds | awk '$2 == "snapshot" { print $1 }')
do
	expect_eq '[".env","sec","missing"]' \
		"$($EVENTS "$bundle" data "$seq" | jq -c .hidden)" \
		"hidden of snapshot event $seq"
done
expect_eq '[["A","src/new"]]' \
	"$(last_data "$bundle" workspace .changes.paths | jq -c .)" \
	"the final snapshot's changes"

# The replay makes the parts again for its sandbox to cover, so the
# agent finds them as it did (its last command), and its snapshots
# leave them out the same way.
expect_status 0 "$RB" replay "$bundle"
expect_grep '^identical' "$TMP/out"

# A hidden part below a directory: the directory cannot be renamed, so
# the part cannot be moved out from under its cover and recorded from
# the host under another name.
ws2=$TMP/ws2
mkdir -p "$ws2/deep/sec"
echo topsecret >"$ws2/deep/sec/key"
cat >"$TMP/deep.json" <<'JSON'
{"version": 1, "workspace": {"hidden": ["deep/sec"]}}
JSON
cd "$ws2"
record "$TMP/deep.rb" --policy "$TMP/deep.json" -- \
	sh -c 'mv deep deep2 || echo refused; cat deep2/sec/key; exit 0'
expect_recorded 0
expect_grep '^refused$' "$TMP/out"
[ -d "$ws2/deep" ] && [ ! -e "$ws2/deep2" ] || fail "deep was renamed"
expect_status 0 "$RB" export-bundle -o "$TMP/deep.tar.zst" "$TMP/deep.rb"
mkdir "$TMP/deep-all"
tar -C "$TMP/deep-all" --zstd -xf "$TMP/deep.tar.zst"
if grep -rq topsecret "$TMP/deep-all"; then
	fail "the bundle contains the moved part's content"
fi
exit 0
