#!/bin/sh
# The policy's env.secrets stay out of the agent and out of the bundle,
# also when their names match no default secret pattern and a pass
# pattern matches them. runbundle's own environment goes into the
# fingerprint, and with --sandbox none into the agent's.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws"
cat >"$TMP/policy.json" <<'JSON'
{"version": 1,
 "env": {"pass": ["LANG", "APP*"], "secrets": ["APPDB", "APPX*"]}}
JSON
cd "$ws"

# check_no_secret BUNDLE: neither value is in the agent's output or
# the bundle, and the fingerprint names both variables without values.
check_no_secret() {
	if grep -q 'db-hunter2\|x-hunter3' "$TMP/out"; then
		fail "the agent of '$1' saw a secret"
	fi
	expect_grep '^APPOTHER=plain$' "$TMP/out"
	rm -rf "$TMP/all" "$TMP/all.tar.zst"
	expect_status 0 "$RB" export-bundle -o "$TMP/all.tar.zst" "$1"
	mkdir "$TMP/all"
	tar -C "$TMP/all" --zstd -xf "$TMP/all.tar.zst"
	if grep -rq 'db-hunter2\|x-hunter3' "$TMP/all"; then
		fail "'$1' holds a value of env.secrets"
	fi
	seq=$($EVENTS "$1" kinds | awk '$2 == "fingerprint" { s = $1 }
		END { print s }')
	expect_eq "null null plain" \
		"$($EVENTS "$1" object "$seq" | jq -r '.environment |
		   "\(.APPDB) \(.APPXKEEP) \(.APPOTHER)"')" \
		"the fingerprint's environment"
}

export APPDB=db-hunter2 APPXKEEP=x-hunter3 APPOTHER=plain
record "$TMP/boxed.rb" --policy "$TMP/policy.json" -- \
	sh -c 'env; tr "\0" "\n" </proc/self/environ'
expect_recorded 0
check_no_secret "$TMP/boxed.rb"

record "$TMP/none.rb" --sandbox none --policy "$TMP/policy.json" -- \
	sh -c 'env; tr "\0" "\n" </proc/self/environ'
expect_recorded 0
check_no_secret "$TMP/none.rb"
