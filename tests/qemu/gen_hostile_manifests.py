#!/usr/bin/env python3
"""Write hostile binary manifests for the QEMU boot tests, bypassing
mkmanifest (which would refuse to produce them). Usage:
    gen_hostile_manifests.py OUTDIR ELF
Each file must make the kernel stop the boot with a clear error."""
import json
import os
import struct
import subprocess
import sys

out, elf_path = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
elf = open(elf_path, "rb").read()


def encode(obj, name):
    data = subprocess.run(
        ["capnp", "convert", "json:binary", "schema/capos.capnp", "SystemManifest"],
        input=json.dumps(obj).encode(), check=True, capture_output=True).stdout
    open(os.path.join(out, name), "wb").write(data)


def base():
    return {
        "schemaVersion": 1,
        "binaries": [{"name": "init", "elf": list(elf)}],
        "initConfig": {"init": {"binary": "init", "caps": [
            {"name": "console", "interfaceId": str(0xa3b90b046e5043e0),
             "source": {"kernel": "console"}}]}},
        "kernelParams": {"motd": "hostile"},
    }


m = base()
del m["initConfig"]["init"]
encode(m, "hostile-no-init.bin")

m = base()
m["binaries"][0]["elf"] = list(b"\x7fELF but not really an executable" * 4)
encode(m, "hostile-init-not-elf.bin")

m = base()
m["initConfig"]["init"]["caps"][0]["source"] = {"none": None}
encode(m, "hostile-unknown-source.bin")

m = base()
m["initConfig"]["init"]["caps"][0]["interfaceId"] = str(0xa97e1d2f4d232b4a)  # Timer's
encode(m, "hostile-wrong-interface.bin")

# A pointer bomb: one segment whose root is a list of 2^29-1 eight-byte
# elements pointing back at the segment itself, and a far pointer that
# lands on itself: the reader's bounds, traversal and far-pointer checks
# must stop both.
words = [
    (0xFFFFFFFC & 0) | 1 | (0 << 2) | ((5 | ((2**29 - 1) << 3)) << 32),  # list ptr, huge
    2 | (1 << 3),  # far pointer into word 1 of segment 0: itself
]
seg = b"".join(struct.pack("<Q", w & 0xFFFFFFFFFFFFFFFF) for w in words)
open(os.path.join(out, "hostile-pointer-bomb.bin"), "wb").write(
    struct.pack("<II", 0, len(words)) + seg)
