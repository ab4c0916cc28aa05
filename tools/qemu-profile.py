#!/usr/bin/env python3
"""Where a capOS guest's instructions go.

    tools/qemu-profile.py ISO KERNEL.elf [USER.elf...]   (LINES=sym1,sym2 for per-line counts)

Boots ISO under -icount shift=0,sleep=off with -singlestep (one guest
instruction per translation block), turns QEMU's exec log on through the
monitor when the guest prints "prof: start" and off at "prof: end N", and
prints executed instructions per symbol divided by N (user/bench/prof-now.c
is an example target). The switch-over is not instruction-exact: keep the
measured loop long and spin before and after it. A guest may mark several
sections ("prof: start LABEL" ... "prof: end N"): each gets its own report.
The run ends when the guest halts or prints "prof: done" (for systems
that do not halt by themselves).
QEMU_EXTRA adds QEMU arguments (e.g. a network device, for
user/bench/prof-net.c). User programs all link at the same address: name
only the ELFs whose code runs in the section, or read user symbols as
approximate. The exec logs are kept (their paths are printed); with
PROF_LOG=path N=ops one log is read again without booting, e.g. for other
LINES."""
import os, re, socket, subprocess, sys, time, bisect, collections
iso, *elves = sys.argv[1:]
import tempfile
tmp = tempfile.mkdtemp(prefix='capos-prof-')
log = os.path.join(tmp, 'exec.log')
sock = os.path.join(tmp, 'mon.sock')
for f in (log, sock):
    if os.path.exists(f): os.unlink(f)
def boot():
    global log
    q = subprocess.Popen(['qemu-system-x86_64', '-M', 'q35', '-m', '256M', '-display', 'none', '-no-reboot',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-cdrom', iso, '-accel', 'tcg', '-cpu', 'max',
        '-icount', 'shift=0,sleep=off', '-singlestep', '-D', log, '-monitor', 'unix:%s,server,nowait' % sock,
        '-serial', 'stdio'] + os.environ.get('QEMU_EXTRA', '').split(),
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    m = socket.socket(socket.AF_UNIX); m.connect(sock)
    def mon(cmd):
        m.sendall((cmd + '\n').encode()); time.sleep(0.05)
    sections = []  # (label, exec log, N)
    label = ''
    for raw in q.stdout:
        line = raw.decode(errors='replace').rstrip()
        if 'prof: start' in line:
            label = line.split('prof: start', 1)[1].strip()
            log = os.path.join(tmp, 'exec-%d.log' % len(sections))
            mon('logfile ' + log); mon('log exec,nochain')
        elif 'prof: end' in line:
            mon('log none'); sections.append((label, log, int(line.split()[-1])))
        elif 'panic' in line.lower(): print(line)
        elif 'capOS: halting' in line or 'prof: done' in line: break
    q.kill()
    return sections
if os.environ.get('PROF_LOG'):
    sections = [('', os.environ['PROF_LOG'], int(os.environ.get('N', '1')))]
else:
    sections = boot()
    for label, path, _ in sections:
        print('exec log kept: %s %s' % (label, path))
syms = []
for e in elves:
    for l in subprocess.run(['nm', '-n', e], capture_output=True, text=True).stdout.splitlines():
        p = l.split()
        if len(p) == 3 and p[1] in 'tTwW': syms.append((int(p[0], 16), p[2], e))
syms.sort(); addrs = [a for a, _, _ in syms]
def report(label, log, n):
    cnt = collections.Counter()
    pat = re.compile(r'Trace \S+: \S+ \[[0-9a-f]+/([0-9a-f]+)/')
    for l in open(log, errors='replace'):
        mm = pat.search(l)
        if mm: cnt[int(mm.group(1), 16)] += 1
    by = collections.Counter()
    for a, c in cnt.items():
        i = bisect.bisect_right(addrs, a) - 1
        by[syms[i][1] if i >= 0 else hex(a)] += c
    tot = sum(by.values())
    print('== %s: total %d instructions, %.1f per op (%d ops)' % (label or 'section', tot, tot / n, n))
    for s, c in by.most_common(40): print('%8.1f  %s' % (c / n, s))
    want = os.environ.get('LINES', '').split(',')
    for w in filter(None, want):
        rows = []
        for a, c in cnt.items():
            i = bisect.bisect_right(addrs, a) - 1
            if i >= 0 and syms[i][1] == w: rows.append((a, c))
        rows.sort()
        if not rows: continue
        lines = collections.Counter()
        # Lines from the ELF the symbol came from (user programs may share
        # addresses: the symbol's, as the per-symbol table reads them).
        elf = syms[bisect.bisect_right(addrs, rows[0][0]) - 1][2]
        r = subprocess.run(['addr2line', '-e', elf] + ['%x' % a for a, _ in rows], capture_output=True, text=True).stdout.split('\n')
        for (a, c), l in zip(rows, r): lines[l.split('/')[-1]] += c
        print('== %s' % w)
        for l, c in sorted(lines.items(), key=lambda x: -x[1])[:int(os.environ.get("TOP", "25"))]: print('%8.1f  %s' % (c / n, l))


for sec in sections:
    report(*sec)
