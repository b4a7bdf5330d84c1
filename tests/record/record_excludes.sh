#!/bin/sh
# Snapshot excludes from the policy. They are recorded in the record and
# snapshot events and applied to every snapshot of the run, the HOME
# seed's too. An agent that writes random bytes into an excluded cache
# replays identical; without the excludes, the same run diverges.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
seed=$TMP/seed
mkdir -p "$ws/cache" "$ws/src" "$seed"
echo keep >"$ws/src/main.c"
echo old >"$ws/cache/old"
echo obj >"$ws/src/main.o"
echo rc >"$seed/.profile"
echo pyc >"$seed/x.pyc"

cat >"$TMP/policy.json" <<JSON
{"version": 1,
 "home": {"path": "/home/agent", "seed": "$seed"},
 "snapshot": {"exclude": ["/cache", "*.o", "*.pyc"]}}
JSON
cat >"$TMP/plain.json" <<JSON
{"version": 1, "home": {"path": "/home/agent", "seed": "$seed"}}
JSON
agent='mkdir -p cache; head -c 16 /dev/urandom | od -x >cache/n
	echo new >src/new.o; echo text >src/notes'

cd "$ws"
record "$TMP/ex.rb" --policy "$TMP/policy.json" -- sh -c "$agent"
expect_recorded 0
bundle=$TMP/ex.rb
expect_eq '["/cache","*.o","*.pyc"]' \
	"$(last_data "$bundle" record .snapshot_excludes | jq -c .)" \
	"record.snapshot_excludes"
for seq in $($EVENTS "$bundle" kinds | awk '$2 == "snapshot" { print $1 }')
do
	expect_eq '["/cache","*.o","*.pyc"]' \
		"$($EVENTS "$bundle" data "$seq" | jq -c .excludes)" \
		"excludes of snapshot event $seq"
done
expect_eq '[["A","src/notes"]]' \
	"$(last_data "$bundle" workspace .changes.paths | jq -c .)" \
	"the final snapshot's changes"

# The final snapshot, checked out, has neither the cache nor an object
# file, and the HOME seed's has no .pyc.
expect_status 0 "$RB" checkout "$bundle" latest "$TMP/final"
expect_eq "src
src/main.c
src/notes" "$(cd "$TMP/final" && find . -mindepth 1 | sed 's|^\./||' | sort)" \
	"the final snapshot's paths"
home_seq=$($EVENTS "$bundle" kinds | awk '$2 == "home" { print $1 - 1 }')
expect_status 0 "$RB" checkout "$bundle" "$home_seq" "$TMP/home"
expect_eq ".profile" "$(ls -A "$TMP/home")" "the HOME seed snapshot"

expect_status 0 "$RB" replay "$bundle"
expect_grep '^identical' "$TMP/out"

# The same run without the excludes: the cache's random bytes differ.
rm -rf "$ws/cache"
record "$TMP/plain.rb" --policy "$TMP/plain.json" -- sh -c "$agent"
expect_recorded 0
expect_status 1 "$RB" replay "$TMP/plain.rb"
expect_grep 'cache/n differs' "$TMP/out"

# A pattern that no path can match is rejected with its JSON path.
for pattern in '"cache/"' '""' '"../x"' '"a//b"' '"a/.."' '"a/."'; do
	echo "{\"version\": 1, \"snapshot\": {\"exclude\": [$pattern]}}" \
		>"$TMP/bad.json"
	expect_status 3 "$RB" record -o "$TMP/bad.rb" \
		--policy "$TMP/bad.json" -- true
	expect_grep "snapshot.exclude\[0\]: $pattern: " "$TMP/err"
	[ ! -e "$TMP/bad.rb" ] || fail "a bundle was created for $pattern"
done
exit 0
