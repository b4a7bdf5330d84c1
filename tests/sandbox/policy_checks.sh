#!/bin/sh
# runbundle sandbox --policy rejects what would otherwise fail later
# without a word from runbundle: a number that is not JSON, a memory or
# open-file limit too small for a shell to start, and an open-file limit
# above the maximum. It warns about an exec.allow entry that names no
# program, and so does record.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/ws"
cd "$TMP/ws"
"$RUNBUNDLE" sandbox -- true 2>/dev/null ||
	skip "runbundle sandbox cannot run here"

# run_policy STATUS JSON COMMAND...: the sandbox under that policy.
run_policy() {
	want=$1
	printf '%s\n' "$2" >"$TMP/p.json"
	shift 2
	expect_status "$want" "$RUNBUNDLE" sandbox --policy "$TMP/p.json" \
		-- "$@"
}

# Numbers as JSON writes them pass, digits inside strings too.
run_policy 0 '{"version": 1.0}' true
run_policy 0 '{"version": 1e0, "hostname": "h01",
	"env": {"set": {"N": "007"}}}' sh -c '[ "$N" = 007 ]'
for v in 01 -01 1. 1.e0 1e 00 1E+; do
	run_policy 125 "{\"version\": $v}" true
	expect_grep "^runbundle: invalid policy: '$TMP/p.json': invalid \
JSON near byte 12: not a JSON number" "$TMP/err"
	expect_grep "^hint: " "$TMP/err"
done

# A variable of env.set that env.secrets names is rejected: the command
# would not get it, and the recorded policy would hold its value.
run_policy 125 '{"version": 1, "env": {"set": {"DB_PASS": "s3cret"},
	"secrets": ["DB_*"]}}' true
expect_grep "^runbundle: invalid policy: '$TMP/p.json': env.set.DB_PASS: \
also named by env.secrets" "$TMP/err"
expect_grep "^hint: take 'DB_PASS' out of env.set or out of env.secrets$" \
	"$TMP/err"

# The minimums, and values below them.
for m in 1 '"1M"' 16777215 '"15M"'; do
	run_policy 125 "{\"version\": 1, \"limits\": {\"memory_bytes\": $m}}" \
		true
	expect_grep "limits.memory_bytes: $m: too small: use at least \
16777216 (\"16M\")" "$TMP/err"
done
run_policy 0 '{"version": 1, "limits": {"memory_bytes": "16M"}}' \
	sh -c 'echo hi | cat >/dev/null; ls / >/dev/null'
for n in 1 3 31; do
	run_policy 125 "{\"version\": 1, \"limits\": {\"open_files\": $n}}" true
	expect_grep "limits.open_files: $n: too small: use at least 32," \
		"$TMP/err"
done
run_policy 0 '{"version": 1, "limits": {"open_files": 32}}' \
	sh -c 'echo hi | cat >/dev/null; ls / >/dev/null'
run_policy 0 '{"version": 1, "limits": {"memory_bytes": 0,
	"open_files": 0}}' true

# The sandbox sets the limit inside its user namespace, where even root
# cannot go past the caller's hard limit, nor anyone past fs.nr_open.
max=$(cat /proc/sys/fs/nr_open)
over=$((max + 1))
run_policy 125 "{\"version\": 1, \"limits\": {\"open_files\": $over}}" true
expect_grep "^runbundle: cannot apply policy: '$TMP/p.json': \
limits.open_files: $over: more than the kernel allows ($max)" "$TMP/err"
expect_grep "^hint: .*at most $max, .*/proc/sys/fs/nr_open" "$TMP/err"
run_policy 125 '{"version": 1, "limits": {"open_files": 4294967296}}' true
expect_grep "limits.open_files: 4294967296: more than the kernel allows" \
	"$TMP/err"
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$max" ]; then
	run_policy 125 "{\"version\": 1,
		\"limits\": {\"open_files\": $((hard + 1))}}" true
	expect_grep "open_files: $((hard + 1)): more than the hard limit of \
this process ($hard)" "$TMP/err"
	expect_grep "^hint: .*at most $hard, .*ulimit -Hn.*($max)" "$TMP/err"
	run_policy 0 "{\"version\": 1, \"limits\": {\"open_files\": $hard}}" \
		true
fi

# A file size limit of 2^63 bytes or more reads as negative to the
# kernel, which would stop the command at its first write with SIGXFSZ.
for size in '"8388608T"' '"9223372036854775808"'; do
	run_policy 125 "{\"version\": 1, \"limits\": {\"file_size_bytes\": \
$size}}" sh -c 'echo hi >f'
	expect_grep "limits.file_size_bytes: $size: too large: .*every write \
would fail; use at most \"8388607T\"" "$TMP/err"
done
for size in '"8388607T"' '"9223372036854775807"'; do
	run_policy 0 "{\"version\": 1, \"limits\": {\"file_size_bytes\": \
$size}}" sh -c 'echo hi >f'
done

# Hiding all of /dev is rejected with the fix. Otherwise the run would
# fail later on a Landlock rule for /dev/null. A single device may be
# hidden.
run_policy 125 '{"version": 1, "filesystem": {"hidden": ["/dev"]}}' true
expect_grep "^runbundle: invalid policy: '$TMP/p.json': \
filesystem.hidden\[0\]: \"/dev\": the sandbox needs its /dev; hide single \
devices instead, such as \"/dev/tty\"\$" "$TMP/err"
run_policy 0 '{"version": 1, "filesystem": {"hidden": ["/dev/tty"]}}' \
	sh -c '! [ -c /dev/tty ] || [ "$(stat -c %t,%T /dev/tty)" = 1,3 ]'

# A read-only bind of the host's /proc or /dev, or of a path inside,
# would cover the sandbox's own: the host's processes would show, and
# /dev/null could not be opened. A path that only starts alike is fine.
for path in /proc /proc/1 /dev /dev/shm; do
	run_policy 125 "{\"version\": 1, \"filesystem\": {\"read_only\":
		[\"/usr\", \"/bin\", \"/lib\", \"/lib64\", \"/etc\",
		 \"$path\"]}}" true
	top=${path#/}
	top=/${top%%/*}
	expect_grep "^runbundle: invalid policy: '$TMP/p.json': \
filesystem.read_only\[5\]: \"$path\": the sandbox has a $top of its own" \
		"$TMP/err"
done
expect_grep "the sandbox has a /dev of its own, and the host's devices, \
bound over it, cannot be opened (the binds are nodev)\$" "$TMP/err"
run_policy 0 '{"version": 1, "filesystem": {"read_only": ["/usr", "/bin",
	"/lib", "/lib64", "/etc", "/devices", "/process"]}}' \
	sh -c '[ "$(ls /proc | grep -c "^[0-9]")" -lt 10 ]'

# An allowlist entry that names no program warns, and the run goes on.
run_policy 0 '{"version": 1,
	"exec": {"allow": ["true", "no-such-prog", "/no/such/file"]}}' true
expect_grep "warning: exec.allow: 'no-such-prog': not found in the \
sandbox's PATH" "$TMP/err"
expect_grep "warning: exec.allow: '/no/such/file': no such file" "$TMP/err"
expect_eq 2 "$(grep -c warning "$TMP/err")" "the warnings"
run_policy 0 '{"version": 1, "exec": {"allow": ["true", "/bin/sh"]}}' true
expect_eq "" "$(cat "$TMP/err")" "stderr with a valid allowlist"

# record warns the same way before it records.
printf '%s\n' '{"version": 1, "exec": {"allow": ["true", "no-such-prog"]}}' \
	>"$TMP/p.json"
expect_status 0 "$RUNBUNDLE" record -o "$TMP/run.rb" --policy "$TMP/p.json" \
	-- true
expect_grep "warning: exec.allow: 'no-such-prog': not found" "$TMP/err"
