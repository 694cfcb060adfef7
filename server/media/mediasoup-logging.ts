import * as mediasoup from 'mediasoup';
import type { Logger } from '../log';

let owner: Logger | null = null;

/**
 * Sends mediasoup's warnings and errors (including what a worker prints to stderr before it
 * dies) to our log instead of the `debug` package, which is silent unless DEBUG is set. The hook
 * is process-wide in mediasoup, so the most recent plane's logger gets the lines.
 */
export function routeMediasoupLogs(log: Logger): () => void {
  owner = log;
  mediasoup.setLogEventListeners({
    onwarn: (namespace, line) => log.warn({ namespace }, line),
    onerror: (namespace, line, err) => log.error({ namespace, err }, line),
  });
  return () => {
    if (owner !== log) return;
    owner = null;
    mediasoup.setLogEventListeners();
  };
}
