#!/bin/sh
# A replay removes its directory whatever the workspace contains. One
# case is a tree nested deeper than PATH_MAX, which a walk by path names
# cannot reach. Another is a chain of 80 directories of mode 0 that the
# agent leaves. As ourselves, and as the test user when we are root.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
/usr/bin/python3 -c '' 2>/dev/null || skip "/usr/bin/python3 is missing"
runners_setup

for runner in $runners; do
	rb=$RUNBUNDLE
	[ "$runner" = user ] && rb=$UNPRIV_RUNBUNDLE
	ws=$TMP/$runner-ws
	mkdir "$ws" "$TMP/$runner-tmp"
	# 30 levels of 200 bytes: 6000 bytes, past PATH_MAX (4096).
	/usr/bin/python3 - "$ws" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(30):
    os.mkdir("d" * 200, dir_fd=fd)
    child = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = child
os.close(os.open("leaf", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
PY
	[ "$runner" = user ] && chown -R "$TEST_USER:" "$ws" "$TMP/$runner-tmp"
	set +e
	(cd "$ws" && run_as "$runner" "$rb" record -o "$TMP/$runner.rb" \
		-- sh -c 'p=locked; for i in $(seq 80); do p=$p/z; done
			mkdir -p $p
			while [ "$p" != locked ]; do chmod 0 $p; p=${p%/z}; done
			chmod 0 locked' \
		</dev/null >"$TMP/out" 2>"$TMP/err")
	status=$?
	set -e
	[ "$status" = 0 ] || cat "$TMP/err" >&2
	expect_eq 0 "$status" "the recording's status ($runner)"
	replay_cleanly "$runner" "$rb" "$TMP/$runner.rb" "$TMP/$runner-tmp"
	chmod -R u+rwX "$ws"
done
exit 0
