#!/bin/sh
# export-bundle lists each object of the manifest in a few dozen bytes
# and streams the manifest's text. A cJSON object per entry took 1.3
# KiB. The peak memory of exports of 5000 and 35000 files is compared,
# so that the memory every export needs cancels out.
. "$TESTS_DIR/lib.sh"

# AddressSanitizer keeps freed memory in quarantine, so the peak would
# measure the sanitizer, not runbundle.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizer's quarantine would dominate the peak memory"

# tree DIR N: N files of distinct content, so N objects, 1000 a folder.
tree() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(top, "d%d" % (i // 1000))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%d" % i), "w") as f:
        f.write("%d\n" % i)
PY
}

# peak N: the peak memory in KiB of exporting a bundle of N files.
peak() {
	tree "$TMP/w$1" "$1"
	expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b$1.rb" \
		"$TMP/w$1"
	/usr/bin/python3 - "$RUNBUNDLE" "$TMP/b$1.rb" "$TMP/b$1.tar.zst" <<'PY'
import resource, subprocess, sys
rb, bundle, out = sys.argv[1:4]
subprocess.run([rb, "export-bundle", "-o", out, bundle], check=True,
               stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

small=$(peak 5000) || fail "the export of 5000 files failed"
large=$(peak 35000) || fail "the export of 35000 files failed"
objects=$(tar -xOf "$TMP/b35000.tar.zst" manifest.json |
	grep -c '"id":') || true
[ "$objects" -gt 35000 ] || fail "the manifest lists $objects objects"

# 30000 more objects took 7.6 MiB (the list, the set of ids seen and
# their doubling), and 40 MiB with a cJSON object each.
grown=$((large - small))
[ "$grown" -lt 16384 ] ||
	fail "peak memory grew by $grown KiB for 30000 more objects"
