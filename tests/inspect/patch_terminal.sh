#!/bin/sh
# On a terminal, patch shows each control character, C1 control and
# bidirectional override of a changed file as '?', keeping tabs, so the
# agent's files cannot drive the reader's terminal. In a pipe the diff
# keeps every byte, for git apply.
. "$TESTS_DIR/lib.sh"
command -v script >/dev/null || skip "script is missing"

mkdir -p "$TMP/a" "$TMP/b"
echo old >"$TMP/a/f"
printf 'esc \033[2J\033]0;title\007 c1 \302\233 rlo \342\200\256 tab\tend\n' \
	>"$TMP/b/f"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/p.rb" "$TMP/a"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/p.rb" "$TMP/b"

script -qec "'$RUNBUNDLE' patch '$TMP/p.rb'" /dev/null >"$TMP/tty" ||
	fail "patch on a terminal failed: $(cat "$TMP/tty")"
for control in '\033' '\007' '\302\233' '\342\200\256'; do
	if grep -q "$(printf "$control")" "$TMP/tty"; then
		fail "patch printed the bytes '$control' on a terminal"
	fi
done
expect_grep "^+esc ?\[2J?]0;title? c1 ?? rlo ??? tab	end" "$TMP/tty"
expect_grep '^-old' "$TMP/tty"

expect_status 0 "$RUNBUNDLE" patch "$TMP/p.rb"
expect_grep "^+esc $(printf '\033')\[2J" "$TMP/out"
expect_grep "rlo $(printf '\342\200\256') tab" "$TMP/out"
exit 0
