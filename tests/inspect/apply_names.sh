#!/bin/sh
# apply lists the paths it writes as messages show them. A C1 control or
# a bidirectional override in a file name is masked, because it would
# drive the terminal or reorder the line.
. "$TESTS_DIR/lib.sh"

mkdir -p "$TMP/w" "$TMP/target"
printf 'a\n' >"$TMP/w/a"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/run.rb" "$TMP/w"
printf 'x\n' >"$TMP/w/$(printf 'r\342\200\256txt.exe')"
printf 'y\n' >"$TMP/w/$(printf 'c1\302\233[2Jz')"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/run.rb" "$TMP/w"

expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/run.rb"
expect_grep '^A  c1??\[2Jz$' "$TMP/out"
expect_grep '^A  r???txt\.exe$' "$TMP/out"
for bad in '\302\233' '\342\200\256'; do
	if grep -q "$(printf "$bad")" "$TMP/out"; then
		fail "apply printed the bytes '$bad' of a file name"
	fi
done
[ -f "$TMP/target/$(printf 'r\342\200\256txt.exe')" ] ||
	fail "apply did not write the file whose name it masked"
