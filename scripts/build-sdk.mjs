// Builds client-sdk/dist: ESM and CommonJS bundles of the main entry (the shared protocol module
// inlined, socket.io-client left as a dependency) and of the browser media entry
// `@lectern/client-sdk/media` (mediasoup-client left as an optional peer dependency), plus type
// declarations.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sdk = path.join(root, 'client-sdk');
const src = path.join(sdk, 'src');
rmSync(path.join(sdk, 'dist'), { recursive: true, force: true });

/**
 * The media entry throws the client's `LecternError`; bundled, it would be a second class and
 * `instanceof LecternError` would fail across entries. This points the modules whose identity
 * matters at the main entry, which exports them; small stateless helpers (the emitter) are
 * simply bundled.
 */
const SHARED_WITH_MAIN_ENTRY = new Set([path.join(src, 'errors.ts'), path.join(src, 'index.ts')]);
const mainEntryExternal = {
  name: 'main-entry-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      const shared = [target, `${target}.ts`].some((file) => SHARED_WITH_MAIN_ENTRY.has(file));
      return shared ? { path: '@lectern/client-sdk', external: true } : undefined;
    });
  },
};

const common = {
  bundle: true,
  platform: 'neutral',
  target: 'es2020',
  sourcemap: true,
  logLevel: 'warning',
};
const main = { ...common, entryPoints: [path.join(src, 'index.ts')], external: ['socket.io-client'] };
const media = {
  ...common,
  entryPoints: [path.join(src, 'media.ts')],
  external: ['mediasoup-client', '@lectern/client-sdk'],
  plugins: [mainEntryExternal],
};
await Promise.all([
  build({ ...main, format: 'esm', outfile: path.join(sdk, 'dist/index.mjs') }),
  build({ ...main, format: 'cjs', outfile: path.join(sdk, 'dist/index.cjs') }),
  build({ ...media, format: 'esm', outfile: path.join(sdk, 'dist/media.mjs') }),
  build({ ...media, format: 'cjs', outfile: path.join(sdk, 'dist/media.cjs') }),
]);
execFileSync(
  process.execPath,
  [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(sdk, 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
);
console.log('built client-sdk/dist');
