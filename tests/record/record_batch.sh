#!/bin/sh
# The writer's batches. Events gather for a moment and commit together,
# and an exec's environment is stored once while it stays the same.
# Execs that share an environment reference one object, and a changed
# environment gets its own. The events of a running agent reach the
# bundle while it still runs. A runbundle killed with SIGKILL in the
# middle of an exec-heavy run leaves a bundle that verifies up to its
# last committed event.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# env_refs BUNDLE: for each exec event of true, the id of its
# environment object and whether that object sets MARK.
env_refs() {
	/usr/bin/python3 - "$1" "$TESTS_DIR/record/events.py" <<'PY'
import json, subprocess, sqlite3, sys
bundle, events_py = sys.argv[1:3]
db = sqlite3.connect("file:%s?mode=ro" % bundle, uri=True)
for seq, text in db.execute("SELECT seq, event FROM events ORDER BY seq"):
    e = json.loads(text)
    if e["kind"] != "exec" or not e["data"]["path"].endswith("/true"):
        continue
    env = subprocess.run([sys.executable, events_py, bundle, "object",
                          str(seq), "1"], capture_output=True,
                         check=True).stdout
    names = [pair[0] for pair in json.loads(env)]
    print(e["refs"][1], "MARK" in names)
PY
}

record "$TMP/env.rb" --sandbox none -- \
	sh -c '/bin/true; /bin/true; MARK=1 /bin/true; /bin/true'
expect_recorded 0
env_refs "$TMP/env.rb" >"$TMP/refs"
expect_eq 4 "$(wc -l <"$TMP/refs")" "exec events of true"
expect_eq "False False True False" \
	"$(cut -d' ' -f2 "$TMP/refs" | tr '\n' ' ' | sed 's/ $//')" \
	"which environments set MARK"
expect_eq 2 "$(cut -d' ' -f1 "$TMP/refs" | sort -u | wc -l)" \
	"distinct environment objects"
expect_eq "$(sed -n 1p "$TMP/refs")" "$(sed -n 4p "$TMP/refs")" \
	"the environment before and after the changed one"

# exec_count BUNDLE: exec events committed so far.
exec_count() {
	/usr/bin/python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(db.execute("SELECT count(*) FROM events "
                 "WHERE json_extract(event, '$.kind') = 'exec'")
      .fetchone()[0])
PY
}

# An agent that runs execs until it is killed with runbundle. Its first
# 300 execs must reach the bundle while it runs.
"$RB" record -o "$TMP/kill.rb" -- sh -c 'i=0
	while :; do
		/bin/true
		i=$((i + 1))
		echo $i >tick
		[ $i = 300 ] && touch half
	done' >"$TMP/kill.out" 2>"$TMP/kill.err" </dev/null &
pid=$!
tries=0
while [ ! -e half ] || [ "$(exec_count "$TMP/kill.rb")" -lt 300 ]; do
	tries=$((tries + 1))
	[ "$tries" -le 600 ] || {
		cat "$TMP/kill.err" >&2
		fail "the first 300 execs did not reach the bundle"
	}
	sleep 0.05
done
kill -KILL "$pid"
wait_status "$pid"
expect_eq 137 "$status" "runbundle killed"
expect_status 0 "$RB" verify --allow-incomplete "$TMP/kill.rb"
n=$(exec_count "$TMP/kill.rb")
[ "$n" -ge 300 ] || fail "only $n exec events after SIGKILL"

# The agent died with runbundle (PTRACE_O_EXITKILL), so its counter
# stays the same.
sleep 0.3
before=$(cat tick)
sleep 0.3
expect_eq "$before" "$(cat tick)" "the agent's counter after SIGKILL"
exit 0
