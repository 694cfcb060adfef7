/** Regenerates docs/openapi.json: the HTTP API's OpenAPI document at the default configuration. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../server/config';
import { openApiDocument } from '../server/http/openapi';

const file = path.join(__dirname, '../docs/openapi.json');
writeFileSync(file, `${JSON.stringify(openApiDocument(loadConfig({})), null, 2)}\n`);
// As `npm run lint` wants it (the test compares the parsed document, not its layout).
execFileSync(process.execPath, [require.resolve('@biomejs/biome/bin/biome'), 'format', '--write', file], {
  stdio: 'ignore',
});
console.log('wrote docs/openapi.json');
