/*
 * Development-only: lets plain Node `require()` load .ts files by transpiling them on the fly
 * with typescript.transpileModule (no type check, CommonJS output).
 *
 * Why it exists: the extraction pool runs src/pipeline/extract/extractWorker.ts in worker_threads. Under
 * jest (ts-jest compiles in-process) and in `npm run bench:pipeline`, the sources are .ts, and a
 * worker thread loads its entry with Node's own loader, which can't read TypeScript. extract.ts
 * preloads this hook in the thread only when it is itself running from a .ts file.
 *
 * Why it is harmless in production: it lives in tools/ with the other development tooling, outside
 * what the build compiles to dist/; dist/*.js load dist/pipeline/extract/extractWorker.js directly.
 * `typescript` is a devDependency, required only when this file runs.
 */
"use strict";
const fs = require("node:fs");

if (!require.extensions[".ts"]) {
  const ts = require("typescript");
  require.extensions[".ts"] = function loadTs(module, filename) {
    const source = fs.readFileSync(filename, "utf8");
    const out = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        inlineSourceMap: true,
      },
    });
    module._compile(out.outputText, filename);
  };
}
