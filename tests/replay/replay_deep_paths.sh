#!/bin/sh
# A step that changes files at the bottom of a 10,000-byte path: the
# file divergences of a replay, and the groups of --repeat --step,
# name every file by its whole path.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# The step writes new content into two files 40 levels of 255-byte
# names down, through descriptors, because no single path reaches them.
new_workspace "$TMP/ws" '/usr/bin/python3 ./deep.py'
cat >"$TMP/ws/deep.py" <<'PY'
import os
fd = os.open('.', os.O_RDONLY)
for i in range(40):
    name = '%03d' % i + 'd' * 252
    if not os.path.exists('/proc/self/fd/%d/%s' % (fd, name)):
        os.mkdir(name, dir_fd=fd)
    fd = os.open(name, os.O_RDONLY, dir_fd=fd)
for name in ('a.txt', 'b.txt'):
    f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644,
                dir_fd=fd)
    os.write(f, os.urandom(8).hex().encode())
    os.close(f)
PY
record_in "$TMP/ws" "$TMP/run.rb"
deep=$(/usr/bin/python3 -c \
	'print("/".join("%03d" % i + "d" * 252 for i in range(40)))')

replay_json "$TMP/run.rb"
expect_replay_status 1
expect_eq "$deep/a.txt content
$deep/b.txt content" \
	"$(jqr '.first_divergence.files[] | "\(.path) \(.change)"')" \
	"the files that diverged"

replay_json "$TMP/run.rb" --step 1 --repeat 2
expect_replay_status 1
expect_eq "$deep/a.txt (content), $deep/b.txt (content) 2" \
	"$(jqr '.files[0] | "\(.files) \(.count)"')" \
	"the files of the re-runs"
