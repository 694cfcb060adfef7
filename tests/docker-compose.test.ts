import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers/process';

/**
 * docker-compose.yml, as the production shape on one host. `docker-compose config` is the real
 * validator and runs where it is installed; the structure is checked everywhere (js-yaml comes
 * with jest).
 */
const file = path.join(ROOT, 'docker-compose.yml');
const load = (require('js-yaml') as { load(text: string): any }).load;
const compose = load(readFileSync(file, 'utf8'));
const lectern = compose.services.lectern;

it('`docker-compose config` accepts it on a machine with no variables set', () => {
  const result = spawnSync('docker-compose', ['-f', file, 'config', '-q'], {
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    // Not installed here: at least nothing in the file demands a variable to be set.
    expect(readFileSync(file, 'utf8')).not.toMatch(/\$\{[A-Z_]+:?\?/);
    return;
  }
  expect(`${result.stdout}${result.stderr}`).toBe('');
  expect(result.status).toBe(0);
});

it('leaves a missing JWT_SECRET for the node to refuse, and configures media for a container', () => {
  expect(lectern.environment).toMatchObject({
    JWT_SECRET: expect.stringMatching(/^\$\{JWT_SECRET:-\}$/),
    MEDIA_LISTEN_IP: '0.0.0.0',
    MEDIA_ANNOUNCED_ADDRESS: expect.stringMatching(/^\$\{MEDIA_ANNOUNCED_ADDRESS:-.+\}$/),
    MEDIA_WORKERS: expect.stringMatching(/^\$\{MEDIA_WORKERS:-[1-9]\d*\}$/),
  });
});

it('publishes a UDP and a TCP port for every default worker, from MEDIA_PORT on', () => {
  const mediaPort = Number(lectern.environment.MEDIA_PORT);
  const defaultWorkers = Number(/:-(\d+)\}$/.exec(lectern.environment.MEDIA_WORKERS)![1]);
  for (const protocol of ['udp', 'tcp']) {
    const mapping = (lectern.ports as string[]).find((p) => p.endsWith(`/${protocol}`));
    const [first, last] = /^(\d+)-(\d+):\1-\2\//
      .exec(mapping ?? '')!
      .slice(1)
      .map(Number);
    expect([protocol, first]).toEqual([protocol, mediaPort]);
    expect(last - first + 1).toBeGreaterThanOrEqual(defaultWorkers);
  }
});
