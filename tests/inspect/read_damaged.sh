#!/bin/sh
# log, show, ls and cat on damaged bundles: each still prints what it
# can read, then names the damage on stderr and exits 1 (3 when the file
# cannot be opened at all). An intact bundle prints the same with or
# without --verify, with nothing on stderr and exit status 0.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# The events of exchange_run (gate_lib.sh): 1 record, 2 and 3 the
# initial snapshot, 4 exec, 5 exchange, 6 and 7 the final snapshot,
# 8 end.
exchange_run "$TMP/run" "$TMP/ok.rb"

# run_all STATUS BUNDLE [OPTION...]: each command on BUNDLE, with its
# stdout in $TMP/NAME.out and its stderr in $TMP/NAME.err.
run_all() {
	status=$1
	b=$2
	shift 2
	for cmd in "log" "log --json" "show 5" "show --json 4" "ls" \
		"ls -r --json" "cat a" "cat --json initial a"; do
		name=$(echo "$cmd" | tr ' ' _)
		# shellcheck disable=SC2086
		expect_status "$status" "$RUNBUNDLE" ${cmd%% *} "$@" "$b" \
			$(echo "$cmd" | cut -s -d' ' -f2-)
		mv "$TMP/out" "$TMP/$name.out"
		mv "$TMP/err" "$TMP/$name.err"
	done
}

# expect_all_err PATTERN: every command's stderr has a matching line.
expect_all_err() {
	for f in "$TMP"/*.err; do
		expect_grep "$1" "$f"
	done
}

# keep_out DIR: move the stdout files of run_all into DIR.
keep_out() {
	mkdir -p "$1"
	mv "$TMP"/*.out "$1/"
	rm -f "$TMP"/*.err
}

# The intact bundle: exit status 0 and nothing on stderr, with and
# without --verify, and the same output both ways.
run_all 0 "$TMP/ok.rb"
for f in "$TMP"/*.err; do
	[ -s "$f" ] && fail "stderr of an intact bundle: $(cat "$f")"
done
expect_grep 'text: hello' "$TMP/log.out"
expect_grep ' snapshot  *[0-9a-f]*, 1 file, [0-9]* bytes$' "$TMP/log.out"
expect_grep '^final$' "$TMP/cat_a.out"
keep_out "$TMP/intact"
run_all 0 "$TMP/ok.rb" --verify
for f in "$TMP"/*.err; do
	[ -s "$f" ] &&
		fail "stderr of an intact bundle with --verify: $(cat "$f")"
done
for f in "$TMP"/*.out; do
	cmp -s "$f" "$TMP/intact/$(basename "$f")" ||
		fail "--verify changed the output: $(basename "$f")"
done
keep_out "$TMP/intact-verify"

# sound_copy NAME: a copy of the intact bundle to damage.
sound_copy() {
	cp "$TMP/ok.rb" "$TMP/$1.rb"
	echo "$TMP/$1.rb"
}

# A number that cJSON would print in another way (1.79639777909473e+15),
# as the tracer stores it: the bundle stays sound, so the check must
# hash the stored text, not the parsed event printed again.
b=$(sound_copy raw)
/usr/bin/python3 - "$b" <<'EOF'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
seq, text = db.execute("SELECT seq, event FROM events "
                       "ORDER BY seq DESC LIMIT 1").fetchone()
prev = hashlib.sha256(text.encode()).hexdigest()
new = ('{"seq":%d,"kind":"note","time":"2026-12-04T10:00:00.000000Z",'
       '"prev":"%s","refs":[],"data":{"time_us":1796397779094730}}'
       % (seq + 1, prev))
digest = hashlib.sha256(new.encode()).digest()
db.execute("INSERT INTO events VALUES (?, ?, ?)", (seq + 1, digest, new))
db.execute("UPDATE meta SET value = ? WHERE key = 'root'", (digest.hex(),))
db.commit()
EOF
expect_status 0 "$RUNBUNDLE" verify "$b"
run_all 0 "$b"
for f in "$TMP"/*.err; do
	[ -s "$f" ] &&
		fail "stderr of a sound bundle with a raw number: $(cat "$f")"
done
keep_out "$TMP/raw"
# export-bundle writes the stored text too, so the import has the same
# hashes and root digest.
expect_status 0 "$RUNBUNDLE" export-bundle -o "$TMP/raw.tar.zst" "$b"
expect_status 0 "$RUNBUNDLE" import -o "$TMP/raw-import.rb" "$TMP/raw.tar.zst"
expect_status 0 "$RUNBUNDLE" verify "$TMP/raw-import.rb"
expect_eq "$(sqlite3 "$b" "SELECT value FROM meta WHERE key = 'root'")" \
	"$(sqlite3 "$TMP/raw-import.rb" "SELECT value FROM meta
	WHERE key = 'root'")" "the root digest after export and import"

# A flipped bit in an object that no command here reads: the content of
# 'gone', which only the initial step has. Only --verify reads every
# object, so only --verify flags it; without it the output and status
# are those of an intact bundle, as docs/inspect.md documents.
b=$(sound_copy flipped)
id=$(printf 'unrelated\n' | sha256sum | cut -c1-64)
expect_eq 1 "$(sqlite3 "$b" "UPDATE objects SET data = CAST(x'00' || data
	AS BLOB) WHERE id = x'$id'; SELECT changes()")" "objects flipped"
run_all 0 "$b"
keep_out "$TMP/flipped"
run_all 1 "$b" --verify
expect_all_err "^runbundle: the bundle is damaged: '$b': object $id: "
expect_all_err "^hint: runbundle verify $b\$"
for f in "$TMP"/*.out; do
	cmp -s "$f" "$TMP/intact/$(basename "$f")" ||
		fail "the output of a flipped object changed: $(basename "$f")"
done
keep_out "$TMP/flipped-verify"

# A damaged object that log reads: the exchange of event 5. log prints
# the whole timeline with the exchange marked unreadable, names it on
# stderr and exits 1. show cannot print that event at all.
b=$(sound_copy exchange)
ex=$(sqlite3 "$b" "SELECT json_extract(event, '\$.refs[0]') FROM events
	WHERE seq = 5")
expect_eq 1 "$(sqlite3 "$b" "UPDATE objects SET data = CAST(x'00' || data
	AS BLOB) WHERE id = x'$ex'; SELECT changes()")" "exchanges flipped"
expect_status 1 "$RUNBUNDLE" log "$b"
expect_grep "^runbundle: cannot read object: '$ex': " "$TMP/err"
expect_grep "^hint: runbundle verify $b\$" "$TMP/err"
expect_grep '^ *(unreadable: cannot read object: ' "$TMP/out"
expect_grep 'end  *agent exited 0' "$TMP/out"
expect_status 1 "$RUNBUNDLE" log --json "$b"
expect_grep "^runbundle: cannot read object: '$ex': " "$TMP/err"
jq -e '.steps[0].events[4].answer_error | test("cannot read object")' \
	"$TMP/out" >/dev/null || fail "log --json shows no answer_error"
expect_status 3 "$RUNBUNDLE" show "$b" 5
expect_grep "^runbundle: cannot read object: '$ex': " "$TMP/err"

# A broken chain link: event 4 changed, with its stored hash updated to
# match, so only the prev link of event 5 shows it. Each command still
# prints, and show prints the changed event.
b=$(sound_copy chain)
/usr/bin/python3 - "$b" <<'EOF'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
text = db.execute("SELECT event FROM events WHERE seq = 4").fetchone()[0]
new = text.replace('/bin/true', '/bin/evil')
assert new != text
db.execute("UPDATE events SET event = ?, hash = ? WHERE seq = 4",
           (new, hashlib.sha256(new.encode()).digest()))
db.commit()
EOF
run_all 1 "$b"
expect_all_err "^runbundle: the bundle is damaged: '$b': event 5: \
its prev does not match the hash of the event before: the chain is broken\$"
expect_all_err "^hint: runbundle verify $b\$"
expect_grep '"/bin/evil"' "$TMP/show_--json_4.out"
expect_grep 'text: hello' "$TMP/log.out"
expect_grep '^final$' "$TMP/cat_a.out"
keep_out "$TMP/chain"
run_all 1 "$b" --verify
expect_all_err "^runbundle: the bundle is damaged: '$b': event 5: \
its prev does not match"
keep_out "$TMP/chain-verify"

# An event changed without its hash: the stored hash no longer matches.
b=$(sound_copy text)
sqlite3 "$b" "UPDATE events SET event = replace(event, '/bin/true',
	'/bin/evil') WHERE seq = 4" || fail "cannot change the event"
run_all 1 "$b"
expect_all_err "^runbundle: the bundle is damaged: '$b': event 4: \
its hash does not match its text\$"
keep_out "$TMP/text"

# A forged root digest: every event reads well, so the output is that
# of the intact bundle, but the status and stderr report the damage.
b=$(sound_copy root)
sqlite3 "$b" "UPDATE meta SET value = '$(printf '%064d' 0)'
	WHERE key = 'root'" || fail "cannot forge the root"
run_all 1 "$b"
expect_all_err "^runbundle: the bundle is damaged: '$b': event [0-9]*: \
the root digest does not match the hash of the last event\$"
for f in "$TMP"/*.out; do
	cmp -s "$f" "$TMP/intact/$(basename "$f")" ||
		fail "the output of a forged root changed: $(basename "$f")"
done
keep_out "$TMP/root"
run_all 1 "$b" --verify
expect_all_err "^runbundle: the bundle is damaged: '$b': event 8: \
the root digest does not match"
keep_out "$TMP/root-verify"

# The last event removed, with its hash: the root digest no longer
# matches the last event that is left.
b=$(sound_copy removed)
sqlite3 "$b" "DELETE FROM events WHERE seq = 8" ||
	fail "cannot remove the event"
run_all 1 "$b"
expect_all_err "^runbundle: the bundle is damaged: '$b': event [0-9]*: \
the root digest does not match the hash of the last event\$"
keep_out "$TMP/removed"

# A truncated file: SQLite rejects it when it is opened, so every
# command fails and names the truncation and what to do about it, as
# verify does, in place of SQLite's "database disk image is malformed".
size=$(stat -c %s "$TMP/ok.rb")
page=$(sqlite3 "$TMP/ok.rb" "PRAGMA page_size")
head -c $((size - page)) "$TMP/ok.rb" >"$TMP/cut.rb"
run_all 3 "$TMP/cut.rb"
expect_all_err "^runbundle: cannot open bundle: '$TMP/cut.rb': the file is \
truncated: $((size - page)) bytes, but its header says $size\$"
expect_all_err "^hint: the copy ends early"
keep_out "$TMP/cut"
for cmd in "verify" "checkout initial $TMP/cut-tree"; do
	# shellcheck disable=SC2086
	expect_status 3 "$RUNBUNDLE" ${cmd%% *} "$TMP/cut.rb" \
		$(echo "$cmd" | cut -s -d' ' -f2-)
	expect_grep "^runbundle: cannot open bundle: '$TMP/cut.rb': the file \
is truncated: $((size - page)) bytes, but its header says $size\$" "$TMP/err"
	expect_grep "^hint: the copy ends early" "$TMP/err"
done
[ ! -e "$TMP/cut-tree" ] || fail "checkout of a truncated bundle made a tree"

# An incomplete bundle, as a killed recording leaves it: no end event
# and never finalized. It is flagged unless --allow-incomplete accepts
# it, and the chain of what it has is still checked.
i=$TMP/inc
mkdir -p "$i/before" "$i/after"
printf 'initial\n' >"$i/before/a"
printf 'final\n' >"$i/after/a"
run_spec "$i" --exec /bin/true true --no-end
jq -cn '{kind: "exchange", data: {seq: 1}, exchange: {request: "{}",
	response: "{}"}}' >>"$i/spec"
run_finish "$i"
forge "$TMP/inc.rb" "$i/spec"
expect_status 1 "$RUNBUNDLE" verify "$TMP/inc.rb"
expect_grep '^incomplete: ' "$TMP/out"
run_all 1 "$TMP/inc.rb"
expect_all_err "^runbundle: the bundle is incomplete: '$TMP/inc.rb': \
it was not finalized, so no root digest covers its last events\$"
expect_all_err "^hint: runbundle verify $TMP/inc.rb\$"
expect_grep '^final$' "$TMP/cat_a.out"
keep_out "$TMP/inc"
run_all 0 "$TMP/inc.rb" --allow-incomplete
for f in "$TMP"/*.err; do
	[ -s "$f" ] && fail "stderr with --allow-incomplete: $(cat "$f")"
done
keep_out "$TMP/inc-allowed"
cp "$TMP/inc.rb" "$TMP/inc-chain.rb"
sqlite3 "$TMP/inc-chain.rb" "UPDATE events SET event = replace(event,
	'/bin/true', '/bin/evil') WHERE seq = 4" ||
	fail "cannot change the event"
run_all 1 "$TMP/inc-chain.rb" --allow-incomplete
expect_all_err "^runbundle: the bundle is damaged: '$TMP/inc-chain.rb': \
event 4: its hash does not match its text\$"
exit 0
