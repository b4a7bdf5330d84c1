#!/bin/sh
# runbundle export-bundle and import: a bundle goes to the open layout
# and back with the identical root digest, finalized or incomplete, and
# an archive that was tampered with is refused without leaving a bundle.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/inspect_lib.sh"
command -v jq >/dev/null || skip "jq is missing"
command -v zstd >/dev/null || skip "zstd is missing"

make_tree "$TMP/w"
head -c 3000000 /dev/urandom >"$TMP/w/large"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/w"
change_tree "$TMP/w"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/w"
root=$("$RUNBUNDLE" inspect --json "$TMP/b.rb" | jq -r .root)

expect_status 0 "$RUNBUNDLE" export-bundle -o "$TMP/b.tar.zst" "$TMP/b.rb"
expect_grep "^root     $root$" "$TMP/out"
mkdir "$TMP/layout"
tar -xf "$TMP/b.tar.zst" -C "$TMP/layout"
expect_eq 'events.jsonl manifest.json objects' \
	"$(ls "$TMP/layout" | tr '\n' ' ' | sed 's/ $//')" "the layout"
expect_eq "runbundle-open-layout 1 finalized $root 2" \
	"$(jq -r '"\(.layout) \(.state) \(.root) \(.events)"' \
	"$TMP/layout/manifest.json")" "the manifest"
# Every object's name is the SHA-256 of its content, and the last event
# line hashes to the root digest.
for f in "$TMP"/layout/objects/sha256/*; do
	expect_eq "$(basename "$f")" "$(sha256sum <"$f" | cut -c1-64)" \
		"an object's name"
done
expect_eq "$root" "$(tail -n 1 "$TMP/layout/events.jsonl" | tr -d '\n' |
	sha256sum | cut -c1-64)" "the hash of the last line"

expect_status 0 "$RUNBUNDLE" import -o "$TMP/i.rb" "$TMP/b.tar.zst"
expect_status 0 "$RUNBUNDLE" verify "$TMP/i.rb"
expect_eq "$root" "$("$RUNBUNDLE" inspect --json "$TMP/i.rb" | jq -r .root)" \
	"the root digest after import"
"$RUNBUNDLE" cat "$TMP/i.rb" large | cmp -s - "$TMP/w/large" ||
	fail "a chunked file after import"
expect_status 3 "$RUNBUNDLE" import -o "$TMP/i.rb" "$TMP/b.tar.zst"
expect_grep "exists" "$TMP/err"
# A bundle given where the archive belongs: the hint names what import
# reads.
expect_status 3 "$RUNBUNDLE" import -o "$TMP/i2.rb" "$TMP/i.rb"
expect_grep "^runbundle: cannot read archive: '$TMP/i.rb': " "$TMP/err"
expect_grep "^hint: import reads the .tar.zst that runbundle export writes" \
	"$TMP/err"
# An archive cut short, in its first frame or later: the hint reports it.
for cut in 100 $(($(wc -c <"$TMP/b.tar.zst") / 2)); do
	head -c "$cut" "$TMP/b.tar.zst" >"$TMP/cut.tar.zst"
	expect_status 3 "$RUNBUNDLE" import -o "$TMP/cut.rb" "$TMP/cut.tar.zst"
	expect_grep "^runbundle: cannot read archive: '$TMP/cut.tar.zst': \
.*Truncated" "$TMP/err"
	expect_grep "^hint: the archive ends early" "$TMP/err"
	[ ! -e "$TMP/cut.rb" ] || fail "import of a cut archive left a bundle"
done

# An incomplete bundle stays incomplete, with the same events.
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/inc.rb" "$TMP/w"
expect_status 0 "$RUNBUNDLE" export-bundle --json -o "$TMP/inc.tar.zst" \
	"$TMP/inc.rb"
expect_eq 'writing null' "$(jq -r '"\(.state) \(.root)"' "$TMP/out")" \
	"export of an incomplete bundle"
expect_status 0 "$RUNBUNDLE" import -o "$TMP/inc2.rb" "$TMP/inc.tar.zst"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/inc2.rb"
expect_eq "$("$RUNBUNDLE" log --json "$TMP/inc.rb")" \
	"$("$RUNBUNDLE" log --json "$TMP/inc2.rb")" "the imported events"

# repack NAME: the layout directory back into $TMP/NAME.tar.zst.
repack() {
	(cd "$TMP/t" && tar -cf - manifest.json events.jsonl objects) |
		zstd -q >"$TMP/$1.tar.zst"
}
# tamper NAME WHY: a changed copy of the layout must be refused.
tamper() {
	repack "$1"
	expect_status 3 "$RUNBUNDLE" import -o "$TMP/$1.rb" "$TMP/$1.tar.zst"
	expect_grep "$2" "$TMP/err"
	[ -e "$TMP/$1.rb" ] && fail "import of $1 left a bundle"
	rm -rf "$TMP/t"
}
obj=$(ls "$TMP/layout/objects/sha256" | head -n 1)

cp -a "$TMP/layout" "$TMP/t"
printf 'x' >>"$TMP/t/objects/sha256/$obj"
tamper object "its size differs\|does not match its id"

cp -a "$TMP/layout" "$TMP/t"
rm "$TMP/t/objects/sha256/$obj"
tamper missing "lists an object the archive lacks"

cp -a "$TMP/layout" "$TMP/t"
sed -i 's/"seq":1,/"seq":1,"x":1,/' "$TMP/t/events.jsonl"
tamper event "line 2 is not the next event"

cp -a "$TMP/layout" "$TMP/t"
head -n 1 "$TMP/layout/events.jsonl" >"$TMP/t/events.jsonl"
tamper truncated "1 events, the manifest says 2"

cp -a "$TMP/layout" "$TMP/t"
jq '.layout = "other"' "$TMP/layout/manifest.json" >"$TMP/t/manifest.json"
tamper manifest "not a runbundle open layout"

# An object may be as large as the store loads whole: a streamed
# response of the default limit makes an exchange of about 384 MiB. The
# manifest's size then passes, and the content's does not. Beyond that
# bound the manifest names the reason.
cp -a "$TMP/layout" "$TMP/t"
jq '.objects[0].size = 402653184' "$TMP/layout/manifest.json" \
	>"$TMP/t/manifest.json"
tamper large "its size differs"
cp -a "$TMP/layout" "$TMP/t"
jq '.objects[0].size = 5368709120' "$TMP/layout/manifest.json" \
	>"$TMP/t/manifest.json"
tamper huge "'manifest.json': object 0 is invalid: larger than import \
loads (4 GiB)"
# A size beyond uint64_t is too large as well, not a size to convert.
cp -a "$TMP/layout" "$TMP/t"
jq '.objects[0].size = 1e30' "$TMP/layout/manifest.json" \
	>"$TMP/t/manifest.json"
tamper vast "'manifest.json': object 0 is invalid: larger than import \
loads (4 GiB)"

cp -a "$TMP/layout" "$TMP/t"
echo extra >"$TMP/t/objects/sha256/notes"
repack extra
expect_status 3 "$RUNBUNDLE" import -o "$TMP/extra.rb" "$TMP/extra.tar.zst"
expect_grep "not an object the manifest lists" "$TMP/err"

# foreign NAME TYPE: import the layout with one more entry, NAME, a file
# (TYPE 0) or a symlink (TYPE 2), which must be rejected. Python writes
# the archive, because GNU tar strips a leading "../" from names.
foreign() {
	/usr/bin/python3 - "$TMP/layout" "$1" "$2" <<'PY' |
import io, sys, tarfile
layout, name, kind = sys.argv[1], sys.argv[2], sys.argv[3]
with tarfile.open(fileobj=sys.stdout.buffer, mode="w|",
                  format=tarfile.PAX_FORMAT) as tar:
    for part in ("manifest.json", "events.jsonl", "objects"):
        tar.add(layout + "/" + part, part)
    info = tarfile.TarInfo(name)
    info.type = kind.encode()
    info.linkname = "elsewhere" if kind == "2" else ""
    tar.addfile(info, io.BytesIO(b""))
PY
		zstd -q >"$TMP/foreign.tar.zst"
	expect_status 3 "$RUNBUNDLE" import -o "$TMP/foreign.rb" \
		"$TMP/foreign.tar.zst"
	[ ! -e "$TMP/foreign.rb" ] || fail "import of '$1' left a bundle"
}
foreign ../escape 0
expect_grep "^runbundle: cannot import: '../escape': \
its path leaves the archive's directory\$" "$TMP/err"
expect_grep "^hint: the open layout has only manifest.json, events.jsonl and \
objects/sha256/ID files" "$TMP/err"
foreign "objects/sha256/../../up" 0
expect_grep "'objects/sha256/../../up': \
its path leaves the archive's directory\$" "$TMP/err"
foreign "objects/sha256/$obj" 2
expect_grep "^runbundle: cannot import: 'objects/sha256/$obj': \
not a regular file\$" "$TMP/err"
foreign notes.txt 0
expect_grep "^runbundle: cannot import: 'notes.txt': \
not part of the open layout\$" "$TMP/err"

echo 'not an archive' >"$TMP/junk.tar.zst"
expect_status 3 "$RUNBUNDLE" import -o "$TMP/junk.rb" "$TMP/junk.tar.zst"
expect_grep "^runbundle: cannot read archive: " "$TMP/err"
