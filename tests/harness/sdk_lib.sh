# sdk_lib.sh - sourced by the tests that run the official OpenAI and
# Anthropic SDKs for Node. The SDKs are not Debian packages: scripts/setup
# installs them, pinned, into tests/harness/sdk, and RUNBUNDLE_SDK_DIR may
# name another folder where
#   npm install --prefix DIR openai @anthropic-ai/sdk
# was run. The test is skipped when neither has them. Node resolves
# imports beside the script, so a test copies its script into $TMP, where
# the SDKs are linked in.

command -v node >/dev/null || skip "node is missing"
SDK=${RUNBUNDLE_SDK_DIR:-$TESTS_DIR/harness/sdk}
[ -d "$SDK/node_modules/openai" ] &&
	[ -d "$SDK/node_modules/@anthropic-ai/sdk" ] ||
	skip "no openai and @anthropic-ai/sdk under '$SDK/node_modules'"
ln -s "$SDK/node_modules" "$TMP/node_modules"
