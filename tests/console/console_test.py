#!/usr/bin/env python3
"""console_test.py ISO [TIMEOUT]

The console of `make run`, through its own QEMU command line
(tools/qemu-run.sh, which `make run` calls), on a pseudo-terminal like the
one a person types into. Writes TAP:

  1. the shell prompt appears on the console;
  2. Ctrl-C after part of a line reaches the guest, whose shell cancels
     the line (prints ^C and a fresh prompt), and QEMU keeps running;
  3. the cancelled text was not run, and the next command is answered;
  4. Ctrl-A X quits QEMU promptly (exit status 0, "qemu: quit").

Every wait has a deadline and the whole run TIMEOUT seconds (default 150):
a step that does not happen in time is a failure, never a hang. QEMU and
the script are killed (their process group) on the way out.
"""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

PROMPT = b'capos [anonymous]> '
STEP = 15  # seconds for any one answer once the shell is up


class Console:
    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a session leader on the pty
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.out = bytearray()
        self.pos = 0  # where the next expect starts looking
        self.status = None

    def read(self, wait):
        """Read what arrived within `wait` seconds; False at end of file."""
        r, _, _ = select.select([self.fd], [], [], max(wait, 0))
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: every process holding the pty has exited
            return False
        self.out.extend(data)
        return bool(data)

    def expect(self, pattern, timeout):
        """Wait for the regular expression (bytes) after the last match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self.read(min(left, 0.5)):
                return rx.search(self.out, self.pos)

    def send(self, data):
        os.write(self.fd, data)

    def alive(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = st
        return self.status is None

    def wait_exit(self, timeout):
        """The exit status within timeout seconds, or None."""
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() >= deadline:
                return None
            self.read(0.1)
        while self.read(0.1) and len(self.out) < 1 << 24:  # the last words
            pass
        return os.waitstatus_to_exitcode(self.status)

    def kill(self):
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.status = 0

    def tail(self, n=300):
        return bytes(self.out[-n:]).decode('utf-8', 'replace')


count = 0
failed = 0


def ok(cond, desc, diag=''):
    global count, failed
    count += 1
    failed += not cond
    print(f"{'ok' if cond else 'not ok'} {count} - {desc}", flush=True)
    if not cond and diag:
        print('\n'.join(f'# {line}' for line in str(diag).splitlines()), flush=True)
    return cond


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    iso = sys.argv[1]
    total = float(sys.argv[2]) if len(sys.argv) == 3 else 150.0
    env = dict(os.environ)
    env.pop('KVM', None)  # TCG, as on the test machines
    con = Console(['tools/qemu-run.sh', 'bios', iso], env)

    def timed_out(signum, frame):
        con.kill()
        ok(False, f'the console test finished within {total:.0f} s', con.tail())
        print(f'1..{count}')
        sys.exit(1)

    signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(int(total))
    try:
        run(con)
    finally:
        con.kill()
    print(f'1..{count}')
    sys.exit(1 if failed else 0)


def run(con):
    boot = 120
    prompt = con.expect(re.escape(PROMPT), boot)
    why = (f'no prompt within {boot} s' if con.alive() else
           f'QEMU exited (status {os.waitstatus_to_exitcode(con.status)}) before the prompt')
    if not ok(prompt is not None, 'make run boots to the shell prompt on the console',
              f'{why}; the console ends with:\n{con.tail()}'):
        return

    # make run forwards a port to the remote-session gateway and says
    # which; the official client logs in there as a guest.
    m = re.search(rb'remote CapSet: tcp 127\.0\.0\.1:(\d+)', con.out)
    deadline = time.monotonic() + 60
    while (b'remote-gateway: listening on port 2327' not in con.out and
           time.monotonic() < deadline and con.read(0.5)):
        pass
    listening = b'remote-gateway: listening on port 2327' in con.out or None
    said = ''
    if m and listening is not None:
        r = subprocess.run(['build/tools/capos-remote', '--port', m.group(1).decode(), '--timeout',
                            '60', 'guest', '-c', 'whoami'], capture_output=True, text=True,
                           timeout=90)
        said = r.stdout + r.stderr
    ok(m is not None and 'guest (guest)' in said,
       'make run prints "remote CapSet: tcp 127.0.0.1:PORT" and a remote guest logs in there',
       f'client: {said!r}; the console ends with:\n{con.tail()}')

    con.send(b'echo cancelled-token')
    con.expect(re.escape(b'echo cancelled-token'), STEP)  # the shell's echo
    con.send(b'\x03')
    # Boot messages of other processes may come between the ^C and the
    # fresh prompt (the services are still starting under `make run`).
    cancelled = con.expect(re.escape(b'^C') + rb'\r*\n[\s\S]*?' + re.escape(PROMPT), STEP)
    alive = con.alive()
    ok(cancelled is not None and alive,
       'Ctrl-C reaches the guest: the shell cancels the line and QEMU keeps running',
       ('QEMU exited (Ctrl-C killed it)' if not alive else
        'no "^C" and fresh prompt from the shell') + f'; the console ends with:\n{con.tail()}')
    if not alive:
        return

    con.send(b'echo after-ctrl-c\r')
    answered = con.expect(rb'\n\r*after-ctrl-c\r*\n' + re.escape(PROMPT), STEP)
    ran_cancelled = re.search(rb'\n\r*cancelled-token\r*\n', con.out) is not None
    ok(answered is not None and not ran_cancelled,
       'after Ctrl-C the cancelled line is not run and the next command is answered',
       ('the cancelled line was run' if ran_cancelled else 'no answer to echo') +
       f'; the console ends with:\n{con.tail()}')

    con.send(b'\x01x')
    start = time.monotonic()
    status = con.wait_exit(10)
    took = time.monotonic() - start
    said = b'qemu: quit' in con.out[con.pos:]
    ok(status == 0 and said,
       'Ctrl-A X quits QEMU promptly (exit status 0, "qemu: quit")',
       (f'still running {took:.1f} s after Ctrl-A X' if status is None else
        f'exit status {status} after {took:.1f} s') + f'; the console ends with:\n{con.tail()}')


if __name__ == '__main__':
    main()
