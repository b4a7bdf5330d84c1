# inspect_lib.sh - helpers for the tests of the inspect commands, sourced
# after lib.sh.

# make_tree DIR: a small workspace with every kind of entry that the diff
# and the exports must handle.
make_tree() {
	mkdir -p "$1/sub"
	printf 'one\ntwo\nthree\n' >"$1/keep.txt"
	printf 'gone\n' >"$1/del me.txt"
	printf 'no newline' >"$1/nonl.txt"
	printf '#!/bin/sh\necho hi\n' >"$1/run.sh"
	printf 'x\n' >"$1/modeonly"
	printf 'a\n' >"$1/sub/old"
	ln -s keep.txt "$1/link"
	printf 'bin\000ary' >"$1/blob.bin"
	printf 'turn\n' >"$1/tolink"
	printf 'q\n' >"$1/qu\"ote"
	: >"$1/empty_del"
}

# change_tree DIR: the changes of one agent step, one of each kind.
change_tree() {
	printf 'one\n2\nthree\nfour\n' >"$1/keep.txt"
	rm "$1/del me.txt" "$1/empty_del" "$1/tolink"
	printf 'still no newline' >"$1/nonl.txt"
	chmod 755 "$1/run.sh" "$1/modeonly"
	mv "$1/sub/old" "$1/sub/new"
	printf 'new file\n' >"$1/new file.txt"
	ln -sf nonl.txt "$1/link"
	ln -s keep.txt "$1/tolink"
	printf 'r\n' >"$1/qu\"ote"
	: >"$1/empty_add"
	printf 'bin\000ary2' >"$1/blob.bin"
}

# tree_listing DIR: every entry with its type, mode, link target and
# content hash, sorted, so two trees compare with one string.
tree_listing() {
	(cd "$1" && find . -mindepth 1 -printf '%p\t%y %m %l\n' | sort |
		while IFS='	' read -r p rest; do
			if [ -f "$p" ] && [ ! -L "$p" ]; then
				echo "$p $rest $(sha256sum <"$p" | cut -c1-16)"
			else
				echo "$p $rest"
			fi
		done)
}
