#!/bin/sh
# A SIGTERM to runbundle's process group while the command runs. Init
# gets it twice, directly and forwarded by runbundle, and must count it
# once: the command handles it and exits with its own status. Before,
# the second copy killed everything (137) in about one run of five. A
# second SIGTERM well after the first still kills everything.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/ws"
cat >"$TMP/ws/trap.sh" <<'SH'
#!/bin/sh
trap 'echo got TERM; exit 3' TERM
: >ready
sleep 30 &
wait
SH
cat >"$TMP/ws/stubborn.sh" <<'SH'
#!/bin/sh
trap 'echo got TERM' TERM
: >ready
while :; do sleep 1; done
SH
chmod 755 "$TMP/ws/trap.sh" "$TMP/ws/stubborn.sh"

# group_term SCRIPT DELAY...: start runbundle on SCRIPT in a process
# group of its own, wait until the command is ready, then send SIGTERM
# to the group once per DELAY, sleeping DELAY seconds before each. Sets
# $status.
group_term() {
	rm -f "$TMP/ws/ready"
	/usr/bin/python3 - "$RUNBUNDLE" "$TMP/ws" "$@" >"$TMP/out" <<'PY'
import os, signal, subprocess, sys, time

rb, ws, script, delays = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
p = subprocess.Popen([rb, "sandbox", "--workspace", ws, "--", script],
                     cwd=ws, start_new_session=True)
for _ in range(400):
    if os.path.exists(os.path.join(ws, "ready")):
        break
    time.sleep(0.01)
for d in delays:
    time.sleep(float(d))
    os.killpg(p.pid, signal.SIGTERM)
p.wait(timeout=60)
sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)
PY
	status=$?
}

i=0
while [ $i -lt 10 ]; do
	set +e
	group_term ./trap.sh 0.1
	set -e
	expect_eq 3 "$status" "run $i: the status after one group SIGTERM"
	expect_grep '^got TERM$' "$TMP/out"
	i=$((i + 1))
done

# Half a second apart, the second is a second signal, which kills the
# tree of a command that went on after the first.
set +e
group_term ./stubborn.sh 0.1 0.5
set -e
expect_eq 137 "$status" "the status after two group SIGTERMs"
exit 0
