#!/usr/bin/python3
"""tree_compare.py A B - compare two directory trees.

Exits 1, listing each difference, unless A and B contain the same
entries with the same type, mode, size, content, symlink target,
hardlink grouping and mtime. Mtimes are compared to the nanosecond, for
directories too."""
import os
import stat
import sys


def walk(top):
    entries, inodes = {}, {}
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, top)
            st = os.lstat(path)
            e = {"mode": oct(st.st_mode), "mtime": st.st_mtime_ns}
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    e["content"] = f.read()
                if st.st_nlink > 1:
                    e["link"] = inodes.setdefault(st.st_ino, rel)
            elif stat.S_ISLNK(st.st_mode):
                e["target"] = os.readlink(path)
                del e["mtime"]
            entries[rel] = e
    return entries


def main():
    a, b = walk(sys.argv[1]), walk(sys.argv[2])
    bad = 0
    for rel in sorted(set(a) | set(b)):
        if rel not in a or rel not in b:
            print("only in %s: %s" % (sys.argv[1] if rel in a
                                      else sys.argv[2], rel))
            bad = 1
            continue
        for key in sorted(set(a[rel]) | set(b[rel])):
            if a[rel].get(key) != b[rel].get(key):
                shown = [str(x[rel].get(key))[:60] for x in (a, b)]
                print("%s: %s: %s != %s" % (rel, key, *shown))
                bad = 1
    sys.exit(bad)


main()
