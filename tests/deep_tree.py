"""deep_tree.py DIR LEVELS [NAME[:MODE]=TEXT ...]

Make LEVELS nested directories of 255-byte names below DIR, keeping
those that exist. Then write each NAME below the deepest one, with TEXT
and the octal MODE (default 644). A NAME with slashes gets its
directories. Each step opens one name from the directory before,
because no single path may reach the bottom of a tree deeper than
PATH_MAX. The shell's deep_path (lib.sh) prints the path of the bottom.
"""
import os
import sys


def enter(fd, name):
    try:
        os.mkdir(name, dir_fd=fd)
    except FileExistsError:
        pass
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)


def main():
    top, levels = sys.argv[1], int(sys.argv[2])
    os.makedirs(top, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for i in range(levels):
        fd = enter(fd, "%03d" % i + "d" * 252)
    for spec in sys.argv[3:]:
        name, text = spec.split("=", 1)
        name, _, mode = name.partition(":")
        parent = fd
        parts = name.split("/")
        for part in parts[:-1]:
            parent = enter(parent, part)
        f = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                    int(mode or "644", 8), dir_fd=parent)
        os.write(f, text.encode())
        os.close(f)


main()
