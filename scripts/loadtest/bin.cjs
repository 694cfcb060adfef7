#!/usr/bin/env node
'use strict';
/**
 * `npx lectern-loadtest [options]`: runs the TypeScript load generator (main.ts) through tsx's
 * CommonJS hook, in this process. `--help` lists the options.
 */
const path = require('node:path');
const tsx = require('tsx/cjs/api');

const { main } = tsx.require(path.join(__dirname, 'main.ts'), __filename);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`lectern-loadtest: ${err instanceof Error ? err.stack || err.message : String(err)}\n`);
    process.exit(1);
  },
);
