#!/bin/sh
# The policy's wall-clock limit holds without the sandbox as well: with
# --sandbox none it ends an agent that ignores SIGTERM, and a daemon
# that it started in a session of its own, within the limit. record
# exits 137 and prints that the limit stopped the run, as in the
# sandbox.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

runners_setup
mkdir "$TMP/ws"
chmod 777 "$TMP/ws"
echo '{"version": 1, "limits": {"timeout_seconds": 1}}' >"$TMP/policy.json"
cd "$TMP/ws"
for runner in $runners; do
	rb=$RB
	[ "$runner" = self ] || rb=$UNPRIV_RUNBUNDLE
	bundle=$TMP/$runner.rb
	rm -f daemon
	# timeout(1) ends a recording that ignores the limit.
	set +e
	run_as "$runner" timeout -s KILL 30 "$rb" record -o "$bundle" \
		--sandbox none --policy "$TMP/policy.json" -- \
		sh -c 'trap "" TERM INT HUP
		       setsid sh -c "echo \$\$ >daemon; exec sleep 60" \
			       </dev/null >/dev/null 2>&1 &
		       sleep 60' >"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
	set -e
	expect_recorded 137
	expect_grep "^stopped: timed out after 1 s \
(the policy's limits.timeout_seconds)\$" "$TMP/err"
	expect_eq true "$(last_data "$bundle" end .timed_out)" \
		"$runner: timed_out of the end event"
	[ -s daemon ] || fail "$runner: the daemon did not start"
	# Dead, or a zombie until the host's init reaps it.
	state=$(awk '{ print $3 }' "/proc/$(cat daemon)/stat" 2>/dev/null ||
		true)
	case $state in
	'' | Z) ;;
	*) fail "$runner: the daemon outlived the run (state $state)" ;;
	esac
done
exit 0
