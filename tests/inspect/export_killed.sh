#!/bin/sh
# An export or export-bundle killed in the middle of its archive leaves
# nothing under the name given with -o. A truncated tar there would pass
# for the whole export with a script that checks only that the file
# exists, and the rerun would reject the name. SIGKILL leaves the
# temporary file, under a name that shows what it is. SIGTERM and
# SIGINT leave nothing. A preloaded library raises the signal once the
# process has written 1 MB.
. "$TESTS_DIR/lib.sh"
preload=$1

# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws"
random_files "$TMP/ws" f 40 100000
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/ws" >/dev/null

# killed SIGNAL STATUS COMMAND [ARG...]: run the command, stopped by
# the signal, and check that -o names no file and no temporary file
# is left when the signal could be caught.
killed() {
	sig=$1 want=$2
	shift 2
	mkdir "$TMP/out.d"
	set +e
	(cd "$TMP/out.d" && LD_PRELOAD=$preload RB_KILL_AFTER=1000000 \
		RB_KILL_SIGNAL=$sig "$@") >/dev/null 2>"$TMP/err"
	status=$?
	set -e
	expect_eq "$want" "$status" "status of $* stopped by signal $sig"
	[ ! -e "$TMP/out.d/x" ] ||
		fail "$* stopped by signal $sig left a partial 'x'"
	left=$(ls "$TMP/out.d")
	if [ "$sig" -eq 9 ]; then
		case $left in
		x.tmp-*) ;;
		*) fail "$* killed left '$left', not one x.tmp-*" ;;
		esac
	else
		expect_eq "" "$left" "files left by $* stopped by signal $sig"
	fi
	rm -rf "$TMP/out.d"
}

for sig in 9 15 2; do
	killed "$sig" $((128 + sig)) "$RUNBUNDLE" export --format tar -o x \
		"$TMP/b.rb"
	killed "$sig" $((128 + sig)) "$RUNBUNDLE" export --format tar.zst \
		-o x "$TMP/b.rb"
	killed "$sig" $((128 + sig)) "$RUNBUNDLE" export-bundle -o x \
		"$TMP/b.rb"
done

# Not stopped, the archive is complete under its name.
expect_status 0 "$RUNBUNDLE" export --format tar -o "$TMP/x.tar" "$TMP/b.rb"
tar -tf "$TMP/x.tar" >"$TMP/list"
expect_eq 40 "$(grep -c '^f' "$TMP/list")" "files in the tar"
expect_status 0 "$RUNBUNDLE" export-bundle -o "$TMP/x.tar.zst" "$TMP/b.rb"
expect_status 0 "$RUNBUNDLE" import -o "$TMP/c.rb" "$TMP/x.tar.zst"
ls "$TMP" | grep -q 'tmp-' && fail "a temporary file was left in $TMP"
exit 0
