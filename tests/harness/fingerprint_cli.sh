#!/bin/sh
# runbundle fingerprint: the fields against uname, os-release, nproc and
# id, redaction, and --compare with itself and with a changed copy.
. "$TESTS_DIR/lib.sh"

expect_status 0 env API_TOKEN=tok-test-123 PLAIN=visible \
	api_token=tok-test-lower "$RUNBUNDLE" fingerprint --json
fp=$TMP/out
cp "$fp" "$TMP/fp.json"

field() {
	jq -r "$1" "$TMP/fp.json"
}

expect_eq "$(uname -r)" "$(field .kernel.release)" "kernel release"
expect_eq "$(uname -m)" "$(field .kernel.machine)" "architecture"
expect_eq "$(nproc)" "$(field .cpu.available)" "available CPUs"
expect_eq "$(getconf _NPROCESSORS_ONLN)" "$(field .cpu.online)" "online CPUs"
expect_eq "$(id -u)" "$(field .user.uid)" "uid"
expect_eq "$(id -g)" "$(field .user.gid)" "gid"
expect_eq "$(hostname)" "$(field .hostname)" "hostname"
expect_eq "$(getconf GNU_LIBC_VERSION | cut -d' ' -f2)" \
	"$(field .libc.version)" "libc version"
if [ -r /etc/os-release ]; then
	(. /etc/os-release && echo "${ID:-}") >"$TMP/id"
	expect_eq "$(cat "$TMP/id")" "$(field .os.ID)" "distribution"
	(. /etc/os-release && echo "${VERSION_ID:-}") >"$TMP/ver"
	expect_eq "$(cat "$TMP/ver")" "$(field '.os.VERSION_ID // ""')" \
		"distribution version"
fi
mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
expect_eq "$((mem_kib * 1024))" "$(field '.memory.total_bytes')" "memory"
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
expect_eq "$model" "$(field .cpu.model)" "CPU model"
expect_eq "$("$RUNBUNDLE" --version | cut -d' ' -f2)" \
	"$(field .runbundle_version)" "version"
expect_eq visible "$(field .environment.PLAIN)" "plain variable"
expect_eq null "$(field .environment.API_TOKEN)" "secret variable"
expect_eq null "$(field .environment.api_token)" "secret in lower case"
grep -q tok-test-123 "$TMP/fp.json" && fail "a secret reached the output"
grep -q tok-test-lower "$TMP/fp.json" && fail "a secret reached the output"
expect_eq null "$(field .sandbox)" "sandbox before the recorder adds it"
expect_eq 0 "$(field '.executables | length')" "executables"

# The text form is one "field: value" line per leaf.
expect_status 0 "$RUNBUNDLE" fingerprint
expect_grep "^kernel.release: $(uname -r)$" "$TMP/out"
expect_grep "^cpu.available: $(nproc)$" "$TMP/out"

# Compared with itself (the same environment): no difference.
env_cmd() {
	env -i PATH="$PATH" HOME=/nonexistent LANG=C.UTF-8 "$@"
}
expect_status 0 env_cmd "$RUNBUNDLE" fingerprint --json
cp "$TMP/out" "$TMP/same.json"
expect_status 0 env_cmd "$RUNBUNDLE" fingerprint --compare "$TMP/same.json"
expect_eq "" "$(cat "$TMP/out")" "differences with itself"

# A copy from "another machine": each change is listed, exit status 1.
jq '.kernel.release = "5.10.0-other" | .libc.version = "2.31"
    | .cpu.available = 96 | .environment.LANG = "de_DE.UTF-8"
    | .executables = [{"path": "/bin/sh", "sha256": "00"}]' \
	"$TMP/same.json" >"$TMP/other.json"
expect_status 1 env_cmd "$RUNBUNDLE" fingerprint --compare "$TMP/other.json"
expect_grep "^kernel.release: recorded '5.10.0-other', now '$(uname -r)': " \
	"$TMP/out"
expect_grep "^libc.version: recorded '2.31', now " "$TMP/out"
expect_grep "^cpu.available: recorded '96', now '$(nproc)': " "$TMP/out"
expect_grep "^environment.LANG: recorded 'de_DE.UTF-8', now 'C.UTF-8': " \
	"$TMP/out"
expect_grep "^executables./bin/sh: recorded '00', now 'unset': " "$TMP/out"
expect_eq 5 "$(wc -l <"$TMP/out" | tr -d ' ')" "number of differences"
expect_status 1 env_cmd "$RUNBUNDLE" fingerprint --json --compare \
	"$TMP/other.json"
expect_eq 5 "$(jq length "$TMP/out")" "number of JSON differences"
expect_eq kernel.release "$(jq -r '.[0].field' "$TMP/out")" "first field"

# Damaged input.
printf '{"kernel": ' >"$TMP/bad.json"
expect_status 3 "$RUNBUNDLE" fingerprint --compare "$TMP/bad.json"
expect_grep "^runbundle: invalid fingerprint: '$TMP/bad.json'" "$TMP/err"
expect_grep "^hint: " "$TMP/err"
printf '{"a": 1}' >"$TMP/other-json.json"
expect_status 3 "$RUNBUNDLE" fingerprint --compare "$TMP/other-json.json"
expect_grep "^runbundle: invalid fingerprint: '$TMP/other-json.json': no \
'kernel' object or 'runbundle_version' string$" "$TMP/err"
expect_status 3 "$RUNBUNDLE" fingerprint --compare "$TMP/missing.json"
expect_grep "^runbundle: cannot open fingerprint: '$TMP/missing.json': \
No such file" "$TMP/err"
expect_status 2 "$RUNBUNDLE" fingerprint extra
expect_grep "unexpected argument: 'extra'" "$TMP/err"
