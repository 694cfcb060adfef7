// Bundles the browser pages: every web/src/pages/<name>.ts becomes web/dist/<name>.js (ES2020,
// minified, with source maps). The HTML and CSS in web/public are served as they are.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pages = path.join(root, 'web/src/pages');
const entryPoints = readdirSync(pages)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(pages, f));
await build({
  entryPoints,
  outdir: path.join(root, 'web/dist'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
console.log(`built ${entryPoints.length} page bundle(s) into web/dist`);
