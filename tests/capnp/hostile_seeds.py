#!/usr/bin/env python3
"""Write hand-made hostile Cap'n Proto messages into the directory given as
the only argument (the capnp_reader fuzz corpus). Called by gen_seeds.sh.
Each seed is one malformed (or unusual but valid) shape the reader must
survive; the unit tests in tests/capnp/test_hostile.c check the exact
outcome of the same shapes."""
import os
import struct
import sys


def frame(*segs):
    """Segment table plus segments; each segment is a list of 64-bit words."""
    hdr = struct.pack('<I', len(segs) - 1)
    hdr += b''.join(struct.pack('<I', len(s)) for s in segs)
    if len(hdr) % 8:
        hdr += b'\0' * 4
    return hdr + b''.join(struct.pack('<Q', w) for s in segs for w in s)


def sp(off, dw, np):
    """Struct pointer."""
    return ((off << 2) & 0xffffffff) | dw << 32 | np << 48


def lp(off, es, n):
    """List pointer: element size code es, n elements (or words)."""
    return ((off << 2) & 0xffffffff) | 1 | es << 32 | n << 35


def far(dbl, seg, pos):
    return 2 | dbl << 2 | pos << 3 | seg << 32


def cap(i):
    return 3 | i << 32


SEEDS = {
    'h_oob_struct': frame([sp(100, 1, 0)]),
    'h_far_missing_seg': frame([far(0, 5, 0)]),
    'h_far_pad_oob': frame([far(0, 1, 10)], [0]),
    'h_far_to_far': frame([far(0, 1, 0)], [far(0, 0, 0)]),
    'h_double_far': frame([far(1, 1, 0)], [far(0, 2, 0), sp(0, 1, 0)], [0x1234]),
    'h_double_far_bad_tag': frame([far(1, 1, 0)], [far(0, 2, 0), far(0, 0, 0)], [1]),
    'h_self_ref': frame([sp(0, 0, 1), sp(-1, 0, 1)]),
    'h_amplify': frame([sp(0, 0, 64)] + [lp(64 - i - 1, 5, 32) for i in range(64)]
                       + [0x0101010101010101] * 32),
    'h_seg_count_max': struct.pack('<II', 0xffffffff, 1) + b'\0' * 8,
    'h_truncated_table': b'\x03\x00\x00\x00\x01\x00',
    'h_truncated_seg': struct.pack('<II', 0, 100) + b'\0' * 16,
    'h_composite_overrun': frame([lp(0, 7, 2), sp(5, 1, 0), 1, 2]),
    'h_composite_bad_tag': frame([lp(0, 7, 1), lp(0, 2, 1), 0]),
    'h_list_overflow': frame([lp(0, 5, (1 << 29) - 1), 0]),
    'h_void_list_huge': frame([sp(0, 0, 1), lp(0, 0, (1 << 29) - 1)]),
    'h_zero_structs': frame([sp(0, 0, 1), lp(0, 7, 0), sp(1000000, 0, 0)]),
    'h_caps': frame([sp(0, 0, 4), cap(0), cap(7), 3 | 4, cap(3)]),
    'h_deep_lists': frame([lp(0, 6, 1)] * 100 + [0]),
    'h_text_not_bytes': frame([sp(0, 0, 1), lp(0, 4, 2), 0x0000000100000002]),
    'h_text_no_nul': frame([sp(0, 0, 1), lp(0, 2, 3), 0x636261]),
    'h_negative_offset': frame([sp(-5, 1, 0)]),
    'h_empty_seg0': struct.pack('<II', 0, 0),
    'h_bit_list_as_struct': frame([sp(0, 0, 1), lp(0, 1, 10), 0x3ff]),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name + '.bin'), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
