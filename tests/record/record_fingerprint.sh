#!/bin/sh
# The environment fingerprint of a recording: the machine's fields, the
# policy's digest and content, the sandbox's description, every
# executable that ran with its hash, and no secret value.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

mkdir "$TMP/ws"
cd "$TMP/ws"
printf '{"version": 1}\n' >"$TMP/policy.json"
export RECORD_TEST_API_KEY=canary-value-93b1c7
record "$TMP/f.rb" --policy "$TMP/policy.json" -- sh -c 'cat /dev/null'
expect_recorded 0

seq=$($EVENTS "$TMP/f.rb" kinds | awk '$2 == "fingerprint" { s = $1 }
	END { print s }')
$EVENTS "$TMP/f.rb" object "$seq" >"$TMP/fp.json"
expect_eq end "$($EVENTS "$TMP/f.rb" data "$seq" | jq -r .at)" \
	"the last fingerprint"

fp() {
	jq -r "$1" "$TMP/fp.json"
}
expect_eq "$(uname -r)" "$(fp .kernel.release)" "kernel.release"
expect_eq "$(uname -m)" "$(fp .kernel.machine)" "kernel.machine"
. /etc/os-release
expect_eq "$ID" "$(fp .os.ID)" "os.ID"
expect_eq "$(id -u)" "$(fp .user.uid)" "user.uid"
expect_eq "$(hostname)" "$(fp .hostname)" "hostname"
expect_eq "$("$RB" --version | awk '{ print $2 }')" \
	"$(fp .runbundle_version)" "runbundle_version"
for field in libc.version cpu.model cpu.online memory.total_bytes \
	     timezone.name; do
	[ "$(fp ".$field")" != null ] || fail "fingerprint $field is null"
done

# The policy as given, and its digest.
expect_eq "$(sha256sum "$TMP/policy.json" | awk '{ print $1 }')" \
	"$(fp .policy.digest)" "policy.digest"
expect_eq '{"version": 1}' "$(fp .policy.content)" "policy.content"

# What the sandbox enforced.
[ "$(fp '.sandbox.namespaces | length')" -gt 0 ] ||
	fail "the sandbox description has no namespaces"
[ "$(fp '.sandbox.seccomp')" != null ] ||
	fail "the sandbox description has no seccomp filter"

# Every executable that ran, hashed.
for exe in /usr/bin/dash /usr/bin/cat; do
	expect_eq "$(sha256sum "$exe" | awk '{ print $1 }')" \
		"$(jq -r --arg p "$exe" '.executables[] |
			select(.path == $p) | .sha256' "$TMP/fp.json")" \
		"the hash of $exe"
done

# Secret values are not recorded, in the fingerprint or anywhere else.
expect_eq null "$(fp .environment.RECORD_TEST_API_KEY)" \
	"a secret in the environment"
$EVENTS "$TMP/f.rb" all >"$TMP/all"
grep -q "$RECORD_TEST_API_KEY" "$TMP/all" && fail "a secret is in the bundle"

# Without the sandbox the agent's environment is the caller's, where a
# secret's name can be in lower case.
export record_test_api_key=canary-lower-5e0d2a
record "$TMP/none.rb" --sandbox none -- sh -c 'cat /dev/null'
expect_recorded 0
$EVENTS "$TMP/none.rb" all >"$TMP/all"
grep -q "$record_test_api_key" "$TMP/all" &&
	fail "a secret in lower case is in the bundle"
exit 0
