#!/usr/bin/env python3
"""Write the seed corpus for tests/fuzz/fuzz_elf64.c.

Run from the repository root: python3 tests/fuzz/gen_elf64_corpus.py
The output is a pure function of this script (no timestamps, no toolchain),
so regenerating it leaves git clean. Seeds: a few valid images shaped like
what the linker produces, and near-valid ones that each break one rule, so
the fuzzer starts next to every branch of the validator.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "elf64")

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_TLS = 1, 2, 3, 4, 7
PT_GNU_STACK, PT_GNU_RELRO = 0x6474E551, 0x6474E552
R, W, X = 4, 2, 1


def image(phdrs, entry=0x401080, size=0xC0, phoff=64, osabi=0):
    """An ET_EXEC x86_64 image of `size` bytes with the given program
    headers: tuples (type, flags, offset, vaddr, filesz, memsz, align)."""
    buf = bytearray(size)
    ident = b"\x7fELF" + bytes([2, 1, 1, osabi]) + bytes(8)
    hdr = ident + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, entry, phoff, 0, 0, 64, 56, len(phdrs), 64, 0, 0
    )
    buf[0:64] = hdr
    for i, (ptype, flags, off, vaddr, filesz, memsz, align) in enumerate(phdrs):
        at = phoff + 56 * i
        buf[at : at + 56] = struct.pack(
            "<IIQQQQQQ", ptype, flags, off, vaddr, vaddr, filesz, memsz, align
        )
    return bytes(buf[:size])


# Small images keep the fuzzer's mutations on bytes that matter: file
# offsets are packed, and each vaddr is congruent to its offset modulo the
# page size, as the linker would place them.
TEXT = (PT_LOAD, R | X, 0x80, 0x401080, 0x40, 0x40, 0x1000)
TYPICAL = [
    (PT_LOAD, R, 0, 0x400000, 0x200, 0x200, 0x1000),
    (PT_LOAD, R | X, 0x200, 0x401200, 0x40, 0x40, 0x1000),
    (PT_LOAD, R, 0x240, 0x402240, 0x20, 0x20, 0x1000),
    (PT_LOAD, R | W, 0x260, 0x403260, 0x8, 0x2024, 0x1000),
    (PT_NOTE, R, 0x1E0, 0x4001E0, 0x20, 0x20, 4),
    (PT_TLS, R, 0x260, 0x403260, 0x4, 0x8, 4),
    (PT_GNU_STACK, R | W, 0, 0, 0, 0, 16),
    (PT_GNU_RELRO, R, 0x260, 0x403260, 0x4, 0x4, 1),
]
T_ENTRY, T_SIZE = 0x401200, 0x268


def with_(phdrs, index, **kw):
    """phdrs with one field of one header replaced."""
    names = ["type", "flags", "offset", "vaddr", "filesz", "memsz", "align"]
    row = list(phdrs[index])
    for k, v in kw.items():
        row[names.index(k)] = v
    return phdrs[:index] + [tuple(row)] + phdrs[index + 1 :]


def typical(phdrs=TYPICAL, entry=T_ENTRY, size=T_SIZE):
    return image(phdrs, entry=entry, size=size)


SEEDS = {
    # Valid.
    "valid-minimal": image([TEXT]),
    "valid-typical": typical(),
    "valid-gnu-osabi": image(TYPICAL, entry=T_ENTRY, size=T_SIZE, osabi=3),
    "valid-bss-tls": image([TEXT, (PT_TLS, R, 0xC0, 0x4020C0, 0, 0x40, 8)]),
    "valid-phdrs-at-end": image([TEXT], size=0xF8, phoff=0xC0),
    # One rule broken each.
    "bad-wx": typical(with_(TYPICAL, 3, flags=R | W | X)),
    "bad-overlap": typical(with_(TYPICAL, 2, vaddr=0x401240)),
    "bad-entry-nx": typical(entry=0x402240),
    "bad-exec-stack": typical(with_(TYPICAL, 6, flags=R | W | X)),
    "bad-two-tls": typical(TYPICAL + [TYPICAL[5]], size=0x2A0),
    "bad-tls-outside": typical(with_(TYPICAL, 5, offset=0x250, vaddr=0x403250)),
    "bad-range": typical(with_(TYPICAL, 0, vaddr=0x3FF000)),
    "bad-file": typical(size=T_SIZE - 1),
    "bad-interp": image([TEXT, (PT_INTERP, R, 0xA0, 0x4020A0, 0x10, 0x10, 1)]),
    "bad-dynamic": image([TEXT, (PT_DYNAMIC, R | W, 0xA0, 0x4020A0, 0x10, 0x10, 8)]),
    "bad-too-many": image(
        [TEXT] + [(PT_LOAD, R, 0x3F8, 0x4023F8 + i * 0x1000, 8, 8, 0x1000) for i in range(16)],
        size=0x400,
    ),
    "bad-phoff": image([TEXT], size=0xF8, phoff=0xC8),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
