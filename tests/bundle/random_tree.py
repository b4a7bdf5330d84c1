"""random_tree.py DIR SEED MAX: make 40 directories of 50 files each
under DIR, of random bytes and sizes from 1 to MAX - 1. The same SEED
makes the same tree."""
import os
import random
import sys

root, seed, max_size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
for d in range(40):
    os.makedirs(os.path.join(root, "d%02d" % d))
    for f in range(50):
        with open(os.path.join(root, "d%02d" % d, "f%02d" % f),
                  "wb") as out:
            out.write(rng.randbytes(rng.randrange(1, max_size)))
