# fuse_mute.py - a FUSE server on descriptor 3 that replies to FUSE_INIT
# only. A lookup in its mount then waits for a reply that never comes,
# in uninterruptible sleep, and outlives SIGKILL until the server exits:
# the tests use it to make a process that nothing can end.
import os
import struct

FUSE_INIT = 26

while True:
    buf = os.read(3, 1 << 20)
    length, opcode, unique = struct.unpack_from("<IIQ", buf)
    if opcode == FUSE_INIT:
        # struct fuse_init_out of protocol 7.31, its tail zeroed.
        out = struct.pack("<IIIIHHIIHHII", 7, 31, 0, 0, 12, 10, 65536, 1,
                          32, 0, 0, 0) + bytes(24)
        os.write(3, struct.pack("<IiQ", 16 + len(out), 0, unique) + out)
