#!/usr/bin/env python3
"""Generate the seed corpus for the mb2 fuzz target.

    python3 tests/fuzz/gen_mb2_corpus.py [OUTDIR]

OUTDIR defaults to tests/fuzz/corpus/mb2 next to this script. The output is
deterministic, so the checked-in seeds can be regenerated and compared.
Layout: Multiboot2 spec 1.0, section 3.6 (little-endian, 8-aligned tags).
"""
import os
import struct
import sys

END, CMDLINE, LOADER, MODULE, MEMINFO, BOOTDEV, MMAP = 0, 1, 2, 3, 4, 5, 6
FRAMEBUFFER, EFI64, EFI_MMAP, ACPI_OLD, ACPI_NEW = 8, 12, 17, 14, 15
EFI_BS, LOAD_BASE = 18, 21
AVAIL, RSVD, ACPI, NVS, BAD = 1, 2, 3, 4, 5


def tag(typ, body=b"", size=None):
    """One tag, padded to 8 bytes; size overrides the header's size field."""
    if size is None:
        size = 8 + len(body)
    raw = struct.pack("<II", typ, size) + body
    return raw + b"\0" * (-len(raw) % 8)


def string(typ, s):
    return tag(typ, s.encode() + b"\0")


def module(start, end, name):
    return tag(MODULE, struct.pack("<II", start, end) + name.encode() + b"\0")


def meminfo(lower, upper):
    return tag(MEMINFO, struct.pack("<II", lower, upper))


def mmap(entries, esize=24):
    body = struct.pack("<II", esize, 0)
    for base, length, typ in entries:
        e = struct.pack("<QQII", base, length, typ, 0)
        body += e + b"\0" * (esize - len(e))
    return tag(MMAP, body)


def rsdp_v1():
    return b"RSD PTR " + bytes([0x42]) + b"BOCHS " + bytes([0]) + struct.pack("<I", 0x1FFE1E50)


def rsdp_v2():
    v1 = b"RSD PTR " + bytes([0]) + b"OVMF  " + bytes([2]) + struct.pack("<I", 0)
    return v1 + struct.pack("<IQ", 36, 0x7FB7E14) + bytes([0, 0, 0, 0])


def info(*tags, end=True, total=None):
    body = b"".join(tags) + (tag(END) if end else b"")
    if total is None:
        total = 8 + len(body)
    return struct.pack("<II", total, 0) + body


# QEMU pc, 512 MiB, SeaBIOS, as GRUB reports it.
BIOS_MAP = [
    (0x0, 0x9FC00, AVAIL),
    (0x9FC00, 0x400, RSVD),
    (0xF0000, 0x10000, RSVD),
    (0x100000, 0x1FEE0000, AVAIL),
    (0x1FFE0000, 0x20000, RSVD),
    (0xFEFFC000, 0x4000, RSVD),
    (0xFFFC0000, 0x40000, RSVD),
]

# QEMU q35 with OVMF: many small entries, ACPI and NVS holes, memory > 4 GiB.
UEFI_MAP = [
    (0x0, 0xA0000, AVAIL),
    (0x100000, 0x700000, AVAIL),
    (0x800000, 0x8000, NVS),
    (0x808000, 0x3000, AVAIL),
    (0x80B000, 0x1000, NVS),
    (0x80C000, 0x5000, AVAIL),
    (0x811000, 0xEF000, NVS),
    (0x900000, 0x7E4E8000, AVAIL),
    (0x7EDE8000, 0x200000, RSVD),
    (0x7EFE8000, 0xB000, ACPI),
    (0x7EFF3000, 0x4000, NVS),
    (0x7EFF7000, 0xE09000, AVAIL),
    (0x7FE00000, 0x200000, RSVD),
    (0xB0000000, 0x10000000, RSVD),
    (0xFFC00000, 0x400000, RSVD),
    (0x100000000, 0x80000000, AVAIL),
]


def seeds():
    s = {}
    s["grub_bios"] = info(
        string(CMDLINE, "console=ttyS0 loglevel=3"),
        string(LOADER, "GRUB 2.06-13+deb12u1"),
        module(0x10C000, 0x10E345, "manifest.bin"),
        meminfo(639, 523136),
        tag(BOOTDEV, struct.pack("<III", 0xE0, 0xFFFFFFFF, 0xFFFFFFFF)),
        mmap(BIOS_MAP),
        tag(FRAMEBUFFER, struct.pack("<QIIIBBH", 0xB8000, 160, 80, 25, 16, 2, 0)),
        tag(ACPI_OLD, rsdp_v1()),
        tag(LOAD_BASE, struct.pack("<I", 0x100000)),
    )
    s["grub_uefi"] = info(
        string(CMDLINE, ""),
        string(LOADER, "GRUB 2.06-13+deb12u1"),
        module(0x7E5C2000, 0x7E5C4A10, "manifest.bin"),
        meminfo(640, 2096128),
        tag(EFI64, struct.pack("<Q", 0x7FB7E018)),
        mmap(UEFI_MAP),
        tag(ACPI_OLD, rsdp_v1()),
        tag(ACPI_NEW, rsdp_v2()),
        tag(EFI_MMAP, struct.pack("<II", 48, 1) + bytes(48 * 3)),
        tag(EFI_BS),
    )
    s["minimal"] = info(mmap([(0x0, 0x9F000, AVAIL), (0x100000, 0x3F00000, AVAIL)]))
    s["empty_mmap"] = info(mmap([]))
    s["wide_entries"] = info(mmap(BIOS_MAP, esize=40))
    s["edges"] = info(
        mmap(
            [
                (0x1800, 0x4000, AVAIL),  # partial frames at both ends
                (0x3800, 0x100, RSVD),  # inside an available frame
                (0xA000, 0x1800, AVAIL),  # meets the next one mid-frame
                (0xB800, 0x800, AVAIL),
                (0x5000000, 0, AVAIL),  # zero length
                (0x100000, 0x800000, AVAIL),
                (0x400000, 0x10000, BAD),  # overlaps available
                (0xFFFFFFFFFFFFF000, 0xFFF, AVAIL),  # ends at 2^64 - 1
            ]
        )
    )
    s["many_modules"] = info(
        mmap(BIOS_MAP),
        *[module(0x200000 + i * 0x2000, 0x201000 + i * 0x2000, "m%d" % i) for i in range(10)],
    )
    s["max_mmap"] = info(mmap([(i << 24, 1 << 23, AVAIL if i % 3 else RSVD) for i in range(128)]))
    # Hostile seeds: each should fail in one specific way.
    grub = s["grub_bios"]
    s["truncated"] = grub[: len(grub) // 2]
    s["unterminated_cmdline"] = info(tag(CMDLINE, b"console=ttyS0"), mmap(BIOS_MAP))
    s["huge_tag_size"] = info(tag(0x1234, b"x" * 8, size=0xFFFFFFFF), mmap(BIOS_MAP))
    s["huge_entry_size"] = info(
        tag(MMAP, struct.pack("<II", 0xFFFFFFF8, 0) + struct.pack("<QQII", 0, 0x9F000, 1, 0))
    )
    s["duplicate_mmap"] = info(mmap(BIOS_MAP), mmap(BIOS_MAP))
    s["no_end_tag"] = info(mmap(BIOS_MAP), end=False)
    s["region_overflow"] = info(mmap([(0xFFFFFFFFFFFFF000, 0x1000, AVAIL)]))
    s["module_backwards"] = info(mmap(BIOS_MAP), module(0x300000, 0x2FFFFF, "bad"))
    s["total_size_max"] = info(mmap(BIOS_MAP), total=0xFFFFFFFF)
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "mb2")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
