"""random_tree.py DIR SEED MAX: 40 directories of 50 files each under
DIR, of random bytes and random sizes from 1 to MAX - 1, the same for
the same SEED."""
import os
import random
import sys

root, seed, largest = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
for d in range(40):
    os.makedirs(os.path.join(root, "d%02d" % d))
    for f in range(50):
        with open(os.path.join(root, "d%02d" % d, "f%02d" % f),
                  "wb") as out:
            out.write(rng.randbytes(rng.randrange(1, largest)))
