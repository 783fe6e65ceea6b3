// `node -r ./bench/register.js bench/x.ts`: runs a TypeScript bench or script without a build
// step and without a TS runner dependency. It only transpiles (like ts-jest with isolatedModules);
// `npm test` type-checks bench/ with `tsc --noEmit`. The code under test runs from dist/ (the
// built CLI) in child processes, so this hook only serves the harness and its test/support helpers.
"use strict";
const fs = require("node:fs");
const ts = require("typescript");

const options = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  isolatedModules: true,
  sourceMap: false,
  inlineSourceMap: true,
};

require.extensions[".ts"] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: filename });
  module._compile(outputText, filename);
};
