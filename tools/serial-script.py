#!/usr/bin/env python3
"""serial-script.py SCRIPT LOG TIMEOUT -- QEMU-COMMAND...

Run QEMU with its serial port on our stdin/stdout, type into it and read it
back as SCRIPT says, copy everything the guest printed to LOG, and exit with
QEMU's exit status (or 124 on the overall timeout, 3 when a step failed,
after explaining which and why on stderr).

SCRIPT has one step per line ('#' starts a comment line):
  expect TEXT        wait until TEXT appears after the previous match
  send TEXT          type TEXT; escapes: \\r \\n \\t \\e (ESC) \\xNN \\\\
  repeat N TEXT      type TEXT N times (for long hostile input)
  absent TEXT        fail if TEXT has appeared in the output so far
  sleep SECONDS      pause (rarely needed: prefer expect)
Each expect waits at most STEP_TIMEOUT seconds (the environment variable,
default 60).
"""
import os
import select
import subprocess
import sys
import time


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == '\\' and i + 1 < len(s):
            n = s[i + 1]
            if n == 'x' and i + 3 < len(s) + 1:
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out += {'r': b'\r', 'n': b'\n', 't': b'\t', 'e': b'\x1b', '\\': b'\\'}.get(
                n, ('\\' + n).encode())
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


def main():
    if len(sys.argv) < 5 or sys.argv[4] != '--':
        sys.exit(__doc__)
    script, log_path, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    cmd = sys.argv[5:]
    step_timeout = float(os.environ.get('STEP_TIMEOUT', '60'))
    steps = []
    with open(script) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            op, _, arg = line.partition(' ')
            if op not in ('expect', 'send', 'repeat', 'sleep', 'absent'):
                sys.exit(f'{script}:{n}: unknown step {op!r}: '
                         'expected expect, send, repeat, absent or sleep')
            steps.append((n, op, arg))

    deadline = time.monotonic() + timeout
    qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    log = open(log_path, 'wb')
    seen = bytearray()
    pos = 0  # where the next expect starts looking

    def pump(wait):
        """Read what QEMU printed within `wait` seconds; False at EOF."""
        r, _, _ = select.select([qemu.stdout], [], [], wait)
        if not r:
            return True
        data = os.read(qemu.stdout.fileno(), 65536)
        if not data:
            return False
        seen.extend(data)
        log.write(data)
        log.flush()
        return True

    def fail(code, msg):
        tail = bytes(seen[-300:]).decode('latin-1').replace('\r', '')
        sys.stderr.write(f'{msg}\n--- last output ---\n{tail}\n')
        qemu.kill()
        qemu.wait()
        log.close()
        sys.exit(code)

    def send(data):
        # A byte at a time through a pipe is fine: QEMU's UART takes what
        # its FIFO can hold and the rest waits in the pipe.
        try:
            qemu.stdin.write(data)
            qemu.stdin.flush()
        except BrokenPipeError:
            fail(3, f'{script}: QEMU exited while input was being sent')

    for n, op, arg in steps:
        if op == 'expect':
            want = unescape(arg)
            step_end = min(deadline, time.monotonic() + step_timeout)
            while True:
                i = seen.find(want, pos)
                if i >= 0:
                    pos = i + len(want)
                    break
                now = time.monotonic()
                if now >= step_end:
                    code = 124 if now >= deadline else 3
                    fail(code, f'{script}:{n}: expected {arg!r} within {step_timeout:.0f}s')
                if not pump(min(0.2, step_end - now)):
                    fail(3, f'{script}:{n}: QEMU exited before {arg!r} appeared '
                            f'(status {qemu.wait()})')
        elif op == 'send':
            send(unescape(arg))
        elif op == 'repeat':
            count, _, text = arg.partition(' ')
            send(unescape(text) * int(count))
        elif op == 'absent':
            if seen.find(unescape(arg)) >= 0:
                fail(3, f'{script}:{n}: {arg!r} appeared, and must not have')
        elif op == 'sleep':
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                pump(0.05)

    # The script is done: let the guest finish (it should halt by itself).
    while True:
        now = time.monotonic()
        if now >= deadline:
            fail(124, f'{script}: the guest did not halt within {timeout:.0f}s')
        if not pump(min(0.2, deadline - now)):
            break
    status = qemu.wait()
    log.close()
    sys.exit(status)


if __name__ == '__main__':
    main()
