#!/bin/sh
# The reading commands and an unfinalized bundle: patch, report and
# inspect reject it without --allow-incomplete, as cat and log do.
# verify warns when a copy lacks the -wal that contains committed
# events. report never replaces an existing file, the bundle included,
# and patch rejects a PATH that is not in the run.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

ws=$TMP/ws
mkdir -p "$ws/src"
echo one >"$ws/src/a.c"
"$RUNBUNDLE" snapshot "$TMP/u.rb" "$ws" >/dev/null
echo two >"$ws/src/a.c"
"$RUNBUNDLE" snapshot "$TMP/u.rb" "$ws" >/dev/null
cp "$TMP/u.rb" "$TMP/f.rb"
"$RUNBUNDLE" snapshot --finalize "$TMP/f.rb" "$ws" >/dev/null

# patch of an unfinalized bundle: the diff, then the error, exit 1.
expect_status 1 "$RUNBUNDLE" patch "$TMP/u.rb"
expect_grep '^+two' "$TMP/out"
expect_grep "^runbundle: the bundle is incomplete: '$TMP/u.rb'" "$TMP/err"
expect_status 1 "$RUNBUNDLE" patch --json "$TMP/u.rb"
expect_eq 1 "$(jq .stats.modified "$TMP/out")" "patch --json's stats"
expect_status 0 "$RUNBUNDLE" patch --allow-incomplete "$TMP/u.rb"
expect_grep '^+two' "$TMP/out"
expect_status 0 "$RUNBUNDLE" patch --verify "$TMP/f.rb"

# apply of an unfinalized bundle: nothing applied, and a hint with the
# reason.
mkdir "$TMP/target"
expect_status 3 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/u.rb"
expect_grep "^runbundle: cannot apply: '$TMP/u.rb': the run is incomplete, \
so its final state is unknown$" "$TMP/err"
expect_grep "^hint: apply a run that ended; 'runbundle gate $TMP/u.rb' \
shows why this one is incomplete$" "$TMP/err"

# report of an unfinalized bundle: no page without --allow-incomplete.
expect_status 1 "$RUNBUNDLE" report -o "$TMP/u.html" "$TMP/u.rb"
expect_grep "^runbundle: the bundle is incomplete: '$TMP/u.rb'" "$TMP/err"
expect_grep '^hint: pass --allow-incomplete' "$TMP/err"
[ -e "$TMP/u.html" ] && fail "report wrote a page of an unfinalized bundle"
expect_status 0 "$RUNBUNDLE" report --allow-incomplete -o "$TMP/u.html" \
	"$TMP/u.rb"
expect_grep '<!DOCTYPE html>' "$TMP/u.html"

# report -o never replaces a file: not the bundle, not another page.
cp "$TMP/f.rb" "$TMP/keep.rb"
expect_status 3 "$RUNBUNDLE" report -o "$TMP/f.rb" "$TMP/f.rb"
expect_grep "^runbundle: cannot create the report: '$TMP/f.rb': it exists" \
	"$TMP/err"
expect_grep '^hint: remove it or name another file with -o' "$TMP/err"
cmp "$TMP/f.rb" "$TMP/keep.rb" || fail "report -o replaced the bundle"
expect_status 0 "$RUNBUNDLE" verify "$TMP/f.rb"
echo mine >"$TMP/keep.html"
expect_status 3 "$RUNBUNDLE" report -o "$TMP/keep.html" "$TMP/f.rb"
expect_eq mine "$(cat "$TMP/keep.html")" "an existing page"
ln -s "$TMP/nowhere.html" "$TMP/dangling.html"
expect_status 3 "$RUNBUNDLE" report -o "$TMP/dangling.html" "$TMP/f.rb"
[ -e "$TMP/nowhere.html" ] && fail "report wrote through a symlink"
expect_status 0 "$RUNBUNDLE" report -o "$TMP/new.html" "$TMP/f.rb"
ls "$TMP" | grep -q '\.tmp-' && fail "report left a temporary file"

# patch PATH: a path in neither step is an error, not an empty diff.
expect_status 3 "$RUNBUNDLE" patch "$TMP/f.rb" nosuch
expect_grep "^runbundle: no such path: 'nosuch': in neither step" "$TMP/err"
expect_eq '' "$(cat "$TMP/out")" "the output of a missing path"
# A bundle of one snapshot has one step to name.
mkdir "$TMP/one"
echo one >"$TMP/one/a"
"$RUNBUNDLE" snapshot --finalize "$TMP/one.rb" "$TMP/one" >/dev/null
expect_status 3 "$RUNBUNDLE" patch "$TMP/one.rb" nosuch
expect_grep "^runbundle: no such path: 'nosuch': not in step 0 of the \
run\$" "$TMP/err"
expect_status 0 "$RUNBUNDLE" patch "$TMP/f.rb" src
expect_grep '^+two' "$TMP/out"
expect_status 0 "$RUNBUNDLE" patch "$TMP/f.rb" src/a.c
expect_status 0 "$RUNBUNDLE" patch --from 0 --to 1 "$TMP/f.rb" src/a.c

# A copy taken while a writer has committed events to the -wal: a reader
# keeps a transaction open that began before the second snapshot, so the
# writer's checkpoint cannot copy those events into the bundle. A
# snapshot leaves the bundle in rollback-journal mode, so the reader
# switches it to WAL first, as a running writer would have.
mkdir "$TMP/live"
echo one >"$ws/src/a.c"
"$RUNBUNDLE" snapshot "$TMP/live/run.rb" "$ws" >/dev/null
/usr/bin/python3 - "$TMP/live/run.rb" "$TMP/live/ready" \
	"$TMP/live/done" <<'EOF' &
import os, sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA journal_mode = WAL")
connection.execute("BEGIN")
connection.execute("SELECT count(*) FROM events").fetchone()
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
connection.execute("COMMIT")
EOF
reader=$!
while [ ! -e "$TMP/live/ready" ]; do sleep 0.05; done
echo two >"$ws/src/a.c"
"$RUNBUNDLE" snapshot "$TMP/live/run.rb" "$ws" >/dev/null
"$RUNBUNDLE" snapshot "$TMP/live/run.rb" "$ws" >/dev/null
[ -s "$TMP/live/run.rb-wal" ] || fail "the writer left no -wal"
cp "$TMP/live/run.rb" "$TMP/copy.rb"
touch "$TMP/live/done"
wait "$reader"
expect_eq 1 "$(sqlite3 "file:$TMP/copy.rb?immutable=1" \
	'SELECT count(*) FROM events')" "events in the copy"
expect_eq 3 "$(sqlite3 "file:$TMP/live/run.rb?mode=ro" \
	'SELECT count(*) FROM events')" "events in the bundle"

expect_status 1 "$RUNBUNDLE" verify "$TMP/copy.rb"
expect_grep "^runbundle: the bundle may lack committed events: \
'$TMP/copy.rb-wal': missing" "$TMP/err"
expect_grep "^hint: copy '$TMP/copy.rb-wal' together with the bundle" \
	"$TMP/err"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/copy.rb"
expect_grep "^OK: .* 1 events, not finalized, and more may be in the \
missing '$TMP/copy.rb-wal'" "$TMP/out"
grep -q '^OK: [0-9]* objects, [0-9]* events$' "$TMP/out" &&
	fail "verify --allow-incomplete printed a bare OK"
expect_status 0 "$RUNBUNDLE" verify --json --allow-incomplete "$TMP/copy.rb"
expect_eq 'true false' "$(jq -r '"\(.wal_missing) \(.finalized)"' \
	"$TMP/out")" "verify --json of the copy"
[ -e "$TMP/copy.rb-wal" ] && fail "verify created a -wal"

# The readers print the same note when they reject the copy.
expect_status 1 "$RUNBUNDLE" log "$TMP/copy.rb"
expect_grep "'$TMP/copy.rb-wal': missing" "$TMP/err"
expect_status 1 "$RUNBUNDLE" patch "$TMP/copy.rb"
expect_grep "'$TMP/copy.rb-wal': missing" "$TMP/err"
expect_status 0 "$RUNBUNDLE" log --allow-incomplete "$TMP/copy.rb"

# export-bundle exports what the copy has, and names what it may lack.
expect_status 0 "$RUNBUNDLE" export-bundle -o "$TMP/copy.tar.zst" \
	"$TMP/copy.rb"
expect_grep "'$TMP/copy.rb-wal': missing" "$TMP/err"

# inspect exits as verify does with the same --allow-incomplete, and its
# verify line gives the reason.
expect_status 1 "$RUNBUNDLE" inspect "$TMP/copy.rb"
expect_grep '^state  *incomplete$' "$TMP/out"
expect_grep '^verify  *incomplete: not finalized, events 1 to 1 are intact$' \
	"$TMP/out"
expect_grep "'$TMP/copy.rb-wal': missing" "$TMP/err"
expect_grep "^runbundle: the bundle is incomplete: '$TMP/copy.rb'" "$TMP/err"
expect_grep '^hint: pass --allow-incomplete' "$TMP/err"
expect_status 0 "$RUNBUNDLE" inspect --allow-incomplete "$TMP/copy.rb"
expect_grep '^verify  *incomplete: not finalized' "$TMP/out"
expect_grep "'$TMP/copy.rb-wal': missing" "$TMP/err"
grep -q 'the bundle is incomplete' "$TMP/err" &&
	fail "inspect --allow-incomplete rejected an intact prefix"
expect_status 1 "$RUNBUNDLE" inspect --json "$TMP/copy.rb"
expect_eq true "$(jq .wal_missing "$TMP/out")" "inspect --json's wal_missing"
expect_eq 'true false' "$(jq -r '.verify | "\(.incomplete) \(.ok)"' \
	"$TMP/out")" "inspect --json's verify of the copy"
expect_status 0 "$RUNBUNDLE" inspect --json --allow-incomplete "$TMP/copy.rb"
expect_eq true "$(jq .verify.ok "$TMP/out")" \
	"inspect --json --allow-incomplete's verify.ok"

# The whole bundle with its -wal: no note, but still incomplete.
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/live/run.rb"
grep -q 'wal' "$TMP/err" && fail "a note on a bundle that has its -wal"
expect_status 1 "$RUNBUNDLE" inspect "$TMP/live/run.rb"
expect_grep '^verify  *incomplete: not finalized, events 1 to 3 are intact$' \
	"$TMP/out"
expect_grep "^runbundle: the bundle is incomplete: '$TMP/live/run.rb'" \
	"$TMP/err"
grep -q 'wal' "$TMP/err" && fail "inspect noted a -wal that is there"
expect_status 0 "$RUNBUNDLE" inspect --allow-incomplete "$TMP/live/run.rb"
expect_eq '' "$(cat "$TMP/err")" "stderr of inspect --allow-incomplete"
expect_status 0 "$RUNBUNDLE" verify "$TMP/f.rb"
expect_eq false "$("$RUNBUNDLE" verify --json "$TMP/f.rb" |
	jq .wal_missing)" "wal_missing of a finalized bundle"
expect_status 0 "$RUNBUNDLE" inspect "$TMP/f.rb"
expect_eq '' "$(cat "$TMP/err")" "stderr of inspect on a finalized bundle"

# A copy with no event at all: not OK, even with --allow-incomplete.
cp "$TMP/copy.rb" "$TMP/empty.rb"
sqlite3 "$TMP/empty.rb" 'DELETE FROM events' || fail "cannot empty a copy"
expect_status 1 "$RUNBUNDLE" verify --allow-incomplete "$TMP/empty.rb"
expect_grep "^incomplete: .* has no events, but its committed events may \
be in the missing '$TMP/empty.rb-wal'" "$TMP/out"
grep -q '^OK' "$TMP/out" && fail "verify accepted a bundle without events"

# inspect and log follow that rule. Their copy has no objects either,
# as a copy of a recording killed before its first checkpoint has none,
# so that verify finds no damage in it.
cp "$TMP/copy.rb" "$TMP/none.rb"
sqlite3 "$TMP/none.rb" 'DELETE FROM events; DELETE FROM objects;
	DELETE FROM stat_cache; DELETE FROM snapshot_index' ||
	fail "cannot empty a copy"
expect_status 1 "$RUNBUNDLE" verify --allow-incomplete "$TMP/none.rb"
grep -q '^problem' "$TMP/out" && fail "verify found damage in none.rb"
for flag in '' --allow-incomplete; do
	expect_status 1 "$RUNBUNDLE" inspect $flag "$TMP/none.rb"
	expect_grep "^verify  *incomplete: no events, and its committed events \
may be in the missing '$TMP/none.rb-wal'$" "$TMP/out"
	expect_grep "'$TMP/none.rb-wal': missing" "$TMP/err"
done
expect_status 1 "$RUNBUNDLE" log --allow-incomplete "$TMP/none.rb"
expect_grep "'$TMP/none.rb-wal': missing" "$TMP/err"

# report follows inspect: without --allow-incomplete it writes no page,
# with it the page and exit status 1, and its summary has inspect's
# verify and wal_missing.
expect_status 1 "$RUNBUNDLE" report -o "$TMP/none.html" "$TMP/none.rb"
expect_grep "'$TMP/none.rb-wal': missing" "$TMP/err"
[ -e "$TMP/none.html" ] && fail "report wrote a page without the flag"
expect_status 1 "$RUNBUNDLE" report --json --allow-incomplete \
	-o "$TMP/none.html" "$TMP/none.rb"
expect_grep "'$TMP/none.rb-wal': missing" "$TMP/err"
expect_grep '<!DOCTYPE html>' "$TMP/none.html"
expect_eq 'true false true' "$(jq -r '.data.summary | [.wal_missing,
	.verify.ok, .verify.incomplete] | join(" ")' "$TMP/out")" \
	"report's wal_missing, verify.ok and verify.incomplete"
expect_eq false "$(jq .data.verify.ok "$TMP/out")" "the page's verify.ok"
"$RUNBUNDLE" inspect --json --allow-incomplete "$TMP/none.rb" \
	>"$TMP/inspect.json" 2>"$TMP/inspect.err" &&
	fail "inspect accepted none.rb"
expect_eq "$(jq -c '.verify, .wal_missing' "$TMP/inspect.json")" \
	"$(jq -c '.data.summary | .verify, .wal_missing' "$TMP/out")" \
	"the verify of report and inspect"

# The copy with an event: the page, the note, and exit status 0.
expect_status 0 "$RUNBUNDLE" report --json --allow-incomplete \
	-o "$TMP/copy.html" "$TMP/copy.rb"
expect_grep "'$TMP/copy.rb-wal': missing" "$TMP/err"
expect_eq 'true true' "$(jq -r '.data.summary | [.wal_missing,
	.verify.ok] | join(" ")' "$TMP/out")" "report's verify of the copy"
exit 0
