import { type Lectern, startLectern } from './app';
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

  // Signals are handled from the first moment: one that arrives during start-up stops the node
  // as soon as it has started, cleanly (the embedded Postgres, workers and sockets included).
  let lectern: Lectern | undefined;
  let stopRequested: string | undefined;
  const stop = (signal: string) => {
    if (stopRequested) return;
    stopRequested = signal;
    if (lectern) shutDown(lectern, signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  lectern = await startLectern(config);
  process.on('unhandledRejection', (err) => lectern?.log.error({ err }, 'unhandled rejection'));
  if (stopRequested) shutDown(lectern, stopRequested);
}

function shutDown(lectern: Lectern, signal: string): void {
  lectern.log.info({ signal }, 'shutting down');
  lectern.close().then(
    () => process.exit(0),
    (err) => {
      lectern.log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
}

main().catch((err) => {
  console.error('lectern failed to start:', err);
  process.exit(1);
});
