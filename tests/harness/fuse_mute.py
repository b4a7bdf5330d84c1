# fuse_mute.py [MARKER] - a FUSE server on descriptor 3 that replies to
# FUSE_INIT only, so the tests can make a process that SIGKILL cannot end.
# A lookup that the server has read waits in uninterruptible sleep until
# the server exits. The kernel drops a lookup that is still queued when
# SIGKILL comes, so the server creates MARKER after it reads a request
# other than FUSE_INIT, and the tests wait for that file.
import os
import struct
import sys

FUSE_INIT = 26

marker = sys.argv[1] if len(sys.argv) > 1 else None
while True:
    buf = os.read(3, 1 << 20)
    length, opcode, unique = struct.unpack_from("<IIQ", buf)
    if opcode == FUSE_INIT:
        # struct fuse_init_out of protocol 7.31, its tail zeroed.
        out = struct.pack("<IIIIHHIIHHII", 7, 31, 0, 0, 12, 10, 65536, 1,
                          32, 0, 0, 0) + bytes(24)
        os.write(3, struct.pack("<IiQ", 16 + len(out), 0, unique) + out)
    elif marker:
        open(marker, "a").close()
