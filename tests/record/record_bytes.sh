#!/bin/sh
# An executable whose path is not UTF-8: the exec event stores the path
# as {"base64": ...}, so every stored event is strict UTF-8 JSON, and
# log, inspect and replay read the exact bytes back.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

mkdir "$TMP/ws"
cd "$TMP/ws"
dir=$(printf 'bin\377x')
mkdir "$dir"
cp /bin/true "$dir/$(printf 't\376')"
record "$TMP/b.rb" -- sh -c './bin*x/t*'
expect_recorded 0

/usr/bin/python3 - "$TMP/b.rb" <<'PY' || fail "an event is not strict JSON"
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
db.text_factory = bytes
for (text,) in db.execute("SELECT event FROM events"):
    json.loads(text.decode("utf-8"))
PY
expect_status 0 "$RUNBUNDLE" log "$TMP/b.rb"
expect_grep 'bin\\xffx/t\\xfe' "$TMP/out"
expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/b.rb"
/usr/bin/python3 -c 'import json, sys
json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$TMP/out" ||
	fail "inspect --json is not strict JSON"
expect_status 0 "$RUNBUNDLE" replay "$TMP/b.rb"
expect_grep '^identical' "$TMP/out"
exit 0
