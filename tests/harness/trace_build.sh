#!/bin/sh
# runbundle trace on "make -j2" of a small C project that the test
# generates: every compiler process, at every depth, in the tree.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/trace_lib.sh"

command -v make >/dev/null || skip "make is not installed"
command -v cc >/dev/null || skip "cc is not installed"

mkdir "$TMP/proj"
for i in 1 2 3; do
	printf 'int f%d(void) { return %d; }\n' $i $i >"$TMP/proj/f$i.c"
done
cat >"$TMP/proj/main.c" <<'C'
int f1(void);
int f2(void);
int f3(void);
int main(void) { return f1() + f2() + f3() - 6; }
C
printf 'OBJS = main.o f1.o f2.o f3.o\nprog: $(OBJS)\n\tcc -o $@ $(OBJS)\n'\
'%%.o: %%.c\n\tcc -c -o $@ $<\n' >"$TMP/proj/Makefile"

trace_json "$TMP/make.json" make -s -C "$TMP/proj" -j2
expect_eq 0 "$status" "make exit status"
"$TMP/proj/prog" || fail "the built program does not run"

# The Debian 12 gcc driver runs cc1 and as for each object, and collect2
# then ld for the link. Make runs each recipe without a shell.
compile='{"c":[{"c":[],"x":["as"]},{"c":[],"x":["cc1"]}],"x":["cc"]}'
link='{"c":[{"c":[{"c":[],"x":["ld"]}],"x":["collect2"]}],"x":["cc"]}'
expect_shape "$TMP/make.json" \
	"{\"c\":[$compile,$compile,$compile,$compile,$link],\"x\":[\"make\"]}"

# Every process ended with status 0, and none was killed.
jq_eq "$TMP/make.json" \
	'[.. | objects | select(has("end")) |
	.end + ":" + (.exit_code | tostring)] | unique | join(",")' \
	'exited:0'
# Each compiler ran with its own arguments.
compiles='cc -c -o f1.o f1.c,cc -c -o f2.o f2.c,cc -c -o f3.o f3.c,'
compiles=$compiles'cc -c -o main.o main.c,cc -o prog main.o f1.o f2.o f3.o'
jq_eq "$TMP/make.json" \
	'[.children[].execs[-1].argv | join(" ")] | sort | join(",")' \
	"$compiles"
# Resource usage comes from wait4 for every process, children of other
# processes included.
jq_eq "$TMP/make.json" \
	'[.. | objects | select(has("rusage")) |
	.rusage.max_rss_kib > 0] | all' \
	true
jq_eq "$TMP/make.json" \
	'[.children[].children[] |
	select(.execs[0].argv[0] | endswith("cc1")) |
	.rusage.user_us + .rusage.system_us > 0] | all' \
	true
