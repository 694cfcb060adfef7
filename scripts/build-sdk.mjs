// Builds client-sdk/dist: an ESM and a CommonJS bundle (the shared protocol module inlined,
// socket.io-client left as a dependency) and type declarations.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sdk = path.join(root, 'client-sdk');
rmSync(path.join(sdk, 'dist'), { recursive: true, force: true });
const common = {
  entryPoints: [path.join(sdk, 'src/index.ts')],
  bundle: true,
  platform: 'neutral',
  target: 'es2020',
  external: ['socket.io-client'],
  sourcemap: true,
  logLevel: 'warning',
};
await Promise.all([
  build({ ...common, format: 'esm', outfile: path.join(sdk, 'dist/index.mjs') }),
  build({ ...common, format: 'cjs', outfile: path.join(sdk, 'dist/index.cjs') }),
]);
execFileSync(
  process.execPath,
  [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(sdk, 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
);
console.log('built client-sdk/dist');
