#!/bin/sh
# patch, inspect and report note a changed binary file from its first
# 8000 bytes instead of loading both versions whole, so their peak
# memory stays well below the size of the file.
. "$TESTS_DIR/lib.sh"

# AddressSanitizer's quarantine would be the peak, not runbundle.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizer's quarantine would dominate the peak memory"

mkdir "$TMP/ws"
cd "$TMP/ws"

# 64 MiB of random bytes after a NUL byte, which makes the file binary.
size=67108864
printf '\0' >big
head -c "$size" /dev/urandom >>big
expect_status 0 "$RUNBUNDLE" record -o "$TMP/run.rb" --sandbox none \
	-- sh -c 'printf x >>big'

"$RUNBUNDLE" patch "$TMP/run.rb" >"$TMP/patch" ||
	fail "patch failed"
expect_grep '^Binary files a/big and b/big differ$' "$TMP/patch"

# peak ARG...: run runbundle with ARG and print its peak RSS in KiB.
peak() {
	/usr/bin/python3 - "$RUNBUNDLE" "$TMP/err" "$@" <<'PY'
import resource, subprocess, sys
rb, err = sys.argv[1:3]
with open(err, "wb") as e:
    p = subprocess.run([rb] + sys.argv[3:], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=e)
if p.returncode != 0:
    sys.exit("%s: exit status %d" % (sys.argv[3], p.returncode))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

# Loading both versions whole takes 146 MiB. Streaming the first bytes
# takes one stored chunk at a time, and the peak was 16 to 20 MiB on 2
# busy CPUs, so a limit of half the file fails a reader that loads even
# one version.
limit=$((size / 2 / 1024))
for command in patch inspect report; do
	case $command in
	report) args="report -o $TMP/report.html $TMP/run.rb" ;;
	*) args="$command $TMP/run.rb" ;;
	esac
	# shellcheck disable=SC2086 # the arguments hold no blanks
	kib=$(peak $args) || { cat "$TMP/err" >&2; fail "$command failed"; }
	[ "$kib" -lt "$limit" ] || fail "$command: peak memory of $kib KiB" \
		"for a binary file of $((size / 1024)) KiB"
done
exit 0
