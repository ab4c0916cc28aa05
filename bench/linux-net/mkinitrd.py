#!/usr/bin/env python3
"""mkinitrd.py OUT.gz INIT [FILE...]

A gzipped newc cpio archive (the initramfs format) with INIT as /init,
each FILE under /modules/, the directories /dev, /proc, /sys and /modules,
and the character device /dev/console (5, 1), written directly so that
neither cpio nor root (mknod) is needed.
"""
import gzip
import os
import stat
import sys


def entry(ino, name, mode, data=b"", rdev=(0, 0)):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = head + name_b
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def main():
    out, init, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    parts = []
    ino = 1
    for d in ("dev", "proc", "sys", "modules"):
        parts.append(entry(ino, d, stat.S_IFDIR | 0o755))
        ino += 1
    parts.append(entry(ino, "dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)))
    ino += 1
    with open(init, "rb") as f:
        parts.append(entry(ino, "init", stat.S_IFREG | 0o755, f.read()))
    ino += 1
    for path in files:
        with open(path, "rb") as f:
            parts.append(entry(ino, "modules/" + os.path.basename(path), stat.S_IFREG | 0o644,
                               f.read()))
        ino += 1
    parts.append(entry(0, "TRAILER!!!", 0))
    with gzip.open(out, "wb", compresslevel=6) as f:
        f.write(b"".join(parts))


if __name__ == "__main__":
    main()
