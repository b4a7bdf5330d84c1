#!/bin/sh
# One long streamed response read back by inspect, log, report and
# show. They free its JSON text once parsed, drop each chunk's base64
# once decoded and read the events from the chunks. So their peak
# memory stays within 4 times the response, where it was 4.6 times.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

# AddressSanitizer's quarantine would be the peak, not runbundle.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizer's quarantine would dominate the peak memory"

mkdir "$TMP/ws"
cd "$TMP/ws"
start_upstream
upstream=$UPSTREAM

# 32 MiB of SSE events of 1 KiB each, the base64 text 43 MiB.
size=33554432
expect_status 0 "$RUNBUNDLE" record -o "$TMP/run.rb" --sandbox none \
	--upstream "openai=$upstream" -- sh -c \
	'curl -sS "$OPENAI_BASE_URL/stream?size='$size'" -o /dev/null'
seq=$("$RUNBUNDLE" log "$TMP/run.rb" | awk '$3 == "exchange" { print $1 }')
[ -n "$seq" ] || fail "no exchange in the recording"

# peak ARG...: run runbundle with ARG and print its peak RSS in KiB.
peak() {
	/usr/bin/python3 - "$RUNBUNDLE" "$TMP/err" "$@" <<'PY'
import os, resource, subprocess, sys
rb, err = sys.argv[1:3]
# MALLOC_PERTURB_ fills every allocation, so that pages reserved but
# never used would count.
env = dict(os.environ)
env.pop("MALLOC_PERTURB_", None)
with open(err, "wb") as e:
    p = subprocess.run([rb] + sys.argv[3:], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=e, env=env)
if p.returncode != 0:
    sys.exit("%s: exit status %d" % (sys.argv[3], p.returncode))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

# Holding the text, the whole cJSON tree and the decoded chunks at once,
# then a joined copy, took 4.6 times the response at this size (4.3 at
# 50 MB). The tree and the chunks alone take 3.6 times.
limit=$((4 * size / 1024))
for command in inspect log show report; do
	case $command in
	show) args="show $TMP/run.rb $seq" ;;
	report) args="report -o $TMP/report.html $TMP/run.rb" ;;
	*) args="$command $TMP/run.rb" ;;
	esac
	# shellcheck disable=SC2086 # the arguments hold no blanks
	kib=$(peak $args) || { cat "$TMP/err" >&2; fail "$command failed"; }
	[ "$kib" -lt "$limit" ] || fail "$command: peak memory of $kib KiB" \
		"for a $((size / 1024)) KiB response"
done
exit 0
