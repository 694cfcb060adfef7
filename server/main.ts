import { startLectern } from './app';
import { type Config, ConfigError, loadConfig } from './config';

/** Process entry point: the only place that reads `process.env`. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const lectern = await startLectern(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    lectern.log.info({ signal }, 'shutting down');
    lectern.close().then(
      () => process.exit(0),
      (err) => {
        lectern.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error('lectern failed to start:', err);
  process.exit(1);
});
