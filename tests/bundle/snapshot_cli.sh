#!/bin/sh
# The snapshot command: what it prints, excludes, finalizing, and its
# errors.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src/keep" "$src/build/obj" "$src/keep/cache"
printf 'a\n' >"$src/keep/a.c"
printf 'o\n' >"$src/keep/a.o"
printf 'b\n' >"$src/build/obj/b.o"
printf 'c\n' >"$src/keep/cache/c"

# The digest is the hash of the last event, as the bundle stores it.
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
digest=$(sed -n 's/^digest //p' "$TMP/out")
stored=$(sqlite3 "$TMP/b.rb" \
	'SELECT lower(hex(hash)) FROM events ORDER BY seq DESC LIMIT 1')
expect_eq "$stored" "$digest" "digest of an unfinalized bundle"

# A snapshot that leaves the bundle unfinalized still moves every commit
# into the file, so verify does not ask for a missing -wal file.
[ ! -e "$TMP/b.rb-wal" ] || fail "snapshot left b.rb-wal behind"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/b.rb"
if grep -q -- -wal "$TMP/err"; then
	cat "$TMP/err" >&2
	fail "verify warns of a missing -wal file after a snapshot"
fi

# Excludes: a name pattern, and a path pattern from the root.
expect_status 0 "$RUNBUNDLE" snapshot --json --exclude '*.o' \
	--exclude keep/cache "$TMP/b.rb" "$src"
expect_grep '"event":2,' "$TMP/out"
expect_grep '"complete":true' "$TMP/out"
expect_grep '"files":1,' "$TMP/out"
expect_eq '["*.o","keep/cache"]' "$(sqlite3 "$TMP/b.rb" \
	"SELECT json_extract(event, '\$.data.excludes') FROM events
	 WHERE seq = 2")" "recorded excludes"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" 2 "$TMP/dst"
[ -f "$TMP/dst/keep/a.c" ] || fail "kept file missing"
[ ! -e "$TMP/dst/keep/a.o" ] || fail "excluded name was stored"
[ ! -e "$TMP/dst/keep/cache" ] || fail "excluded path was stored"
[ -d "$TMP/dst/build/obj" ] || fail "directory of excluded files missing"

# --finalize prints the root digest, and the bundle takes no more.
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$src"
digest=$(sed -n 's/^digest //p' "$TMP/out")
expect_eq "$(sqlite3 "$TMP/b.rb" "SELECT value FROM meta
	WHERE key = 'root'")" "$digest" "root digest"
expect_status 3 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
expect_grep "^runbundle: .*'.*b.rb': .*finalized" "$TMP/err"
expect_grep '^hint: ' "$TMP/err"

# Errors name the value.
expect_status 3 "$RUNBUNDLE" snapshot "$TMP/new.rb" "$TMP/missing"
expect_grep "^runbundle: cannot snapshot directory: '.*missing': \
No such file or directory$" "$TMP/err"
printf 'not a bundle' >"$TMP/text"
expect_status 3 "$RUNBUNDLE" snapshot "$TMP/text" "$src"
expect_grep 'not a runbundle bundle' "$TMP/err"
expect_status 2 "$RUNBUNDLE" snapshot "$TMP/b2.rb"
expect_grep '^usage: runbundle snapshot' "$TMP/err"
expect_status 2 "$RUNBUNDLE" snapshot --level 99 "$TMP/b2.rb" "$src"
expect_grep "invalid zstd level: '99'" "$TMP/err"
expect_status 2 "$RUNBUNDLE" snapshot --bogus "$TMP/b2.rb" "$src"
expect_grep "unknown option: '--bogus'" "$TMP/err"
[ ! -e "$TMP/b2.rb" ] || fail "a usage error created a bundle"

# A bundle inside the directory leaves itself out and records that.
mkdir -p "$TMP/ws/sub"
printf 's\n' >"$TMP/ws/sub/s"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/ws/in[1].rb" "$TMP/ws"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/ws/in[1].rb" "$TMP/ws"
expect_eq '/in\[1].rb' "$(sqlite3 "$TMP/ws/in[1].rb" \
	"SELECT json_extract(event, '\$.data.excludes[0]') FROM events
	 WHERE seq = 2")" "pattern for the bundle itself"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/ws/in[1].rb" latest "$TMP/wsout"
expect_eq "sub" "$(ls "$TMP/wsout")" "checkout of a directory with its bundle"

# A leading '/' anchors a pattern at the root.
mkdir -p "$TMP/anchor/deep"
printf 'top\n' >"$TMP/anchor/x"
printf 'deep\n' >"$TMP/anchor/deep/x"
expect_status 0 "$RUNBUNDLE" snapshot --exclude /x "$TMP/a.rb" "$TMP/anchor"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/a.rb" latest "$TMP/aout"
[ ! -e "$TMP/aout/x" ] || fail "anchored pattern kept the top file"
[ -f "$TMP/aout/deep/x" ] || fail "anchored pattern left out a deeper file"

# A pattern that matches no path of a snapshot is a usage error, as in a
# policy's snapshot.exclude, not a silent exclude of nothing.
for pattern in build/ '' / ./build 'a//b' 'a/../b' 'a/..'; do
	expect_status 2 "$RUNBUNDLE" snapshot --exclude "$pattern" \
		"$TMP/bad.rb" "$TMP/anchor"
	expect_grep "^runbundle: invalid --exclude: '$pattern': " "$TMP/err"
done
[ ! -e "$TMP/bad.rb" ] || fail "a rejected exclude created the bundle"
expect_status 2 "$RUNBUNDLE" snapshot --exclude build/ "$TMP/bad.rb" \
	"$TMP/anchor"
expect_grep "^hint: drop the '/'" "$TMP/err"
