#!/usr/bin/env node
"use strict";
// The published entry point runs the compiled CLI (npm ci runs `prepare`, which builds dist/).
require("../dist/cli/ltx.js")
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`ltx: ${err && err.message ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
