#!/bin/sh
# With --sandbox none the agent has the caller's uid and the host's
# /proc, runbundle's processes included. Their environ and memory
# contain the values of env.secrets and the API key that record's
# gateway injects, so the agent must not be able to read either.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

p=$(policy secrets '{"version": 1, "env": {"secrets": ["RBTEST_SECRET"]}}')
# A root agent keeps its capabilities without the sandbox and reads
# every process, so only the unprivileged user is tested.
ws=$(workspace user)
cat >"$ws/scan.sh" <<'SH'
for proc in /proc/[0-9]*; do
	if grep -q "runbundle-hunter2" "$proc/environ" 2>/dev/null; then
		echo "environ: $proc"
	fi
done
# Then the memory of each runbundle process above the agent.
pid=$(awk '/^PPid:/ { print $2 }' /proc/$$/status)
while [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = runbundle ]; do
	if (exec 3<"/proc/$pid/mem") 2>/dev/null; then
		echo "mem: $pid"
	fi
	pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")
done
echo scanned
SH
chmod 644 "$ws/scan.sh"

export RBTEST_SECRET=runbundle-hunter2
expect_status 0 sandbox user --sandbox none --policy "$p" -- sh scan.sh
expect_grep '^scanned$' "$TMP/out"
if grep '^environ: \|^mem: ' "$TMP/out"; then
	fail "runbundle sandbox --sandbox none: the agent read a secret"
fi

mkdir "$TMP/bundles"
chmod 777 "$TMP/bundles"
(cd "$ws" && as_user env OPENAI_API_KEY=sk-runbundle-hunter2 \
	"$UNPRIV_RUNBUNDLE" record -o "$TMP/bundles/none.rb" --sandbox none \
	--policy "$p" --upstream openai=http://127.0.0.1:9/ -- sh scan.sh) \
	>"$TMP/out" 2>"$TMP/err" || {
	cat "$TMP/err" >&2
	fail "runbundle record --sandbox none failed"
}
expect_grep '^scanned$' "$TMP/out"
if grep '^environ: \|^mem: ' "$TMP/out"; then
	fail "runbundle record --sandbox none: the agent read the API key"
fi
