import { Counter, Gauge, type Registry } from 'prom-client';
import type { ResourceCounts } from './types';

/** What the metrics read from the plane at scrape time. */
export interface MediaMetricsSource {
  available(): boolean;
  rooms(): number;
  peers(): number;
  /** Counts of every running worker. */
  workers(): Array<{ index: number; counts: ResourceCounts }>;
  /** CPU time (ms, user + system) of every running worker. */
  cpu(): Promise<Array<{ index: number; cpuMs: number }>>;
}

export interface MediaMetrics {
  readonly workerDeaths: Counter;
  readonly roomResets: Counter;
  readonly edgeRoutersCreated: Counter;
  /** Takes the media metrics off the registry (the plane closed). */
  unregister(): void;
}

const RESOURCES = ['routers', 'transports', 'producers', 'consumers'] as const;

/**
 * `lectern_media_*` metrics. Gauges (and the CPU counter) are read from the plane when Prometheus
 * scrapes, so they cost nothing between scrapes; without a registry the counters still count, unexported.
 */
export function createMediaMetrics(registry: Registry | undefined, source: MediaMetricsSource): MediaMetrics {
  const registers = registry ? [registry] : [];
  const names: string[] = [];
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    collect: (g: Gauge<L>) => void | Promise<void>,
  ) => {
    names.push(name);
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      collect() {
        return collect(this);
      },
    });
  };
  const counter = (name: string, help: string) => {
    names.push(name);
    return new Counter({ name, help, registers });
  };

  gauge('lectern_media_available', '1 while at least one media worker runs', [], (g) =>
    g.set(source.available() ? 1 : 0),
  );
  gauge('lectern_media_workers', 'Running mediasoup workers', [], (g) => g.set(source.workers().length));
  gauge('lectern_media_rooms', 'Rooms with open media', [], (g) => g.set(source.rooms()));
  gauge('lectern_media_peers', 'Peers joined to room media', [], (g) => g.set(source.peers()));
  for (const resource of RESOURCES) {
    gauge(`lectern_media_${resource}`, `mediasoup ${resource} per worker (pipes included)`, ['worker'], (g) => {
      g.reset();
      for (const w of source.workers()) g.set({ worker: String(w.index) }, w.counts[resource]);
    });
  }
  // Cumulative CPU time is a counter (use rate()). Read from the workers at scrape time, it
  // starts again from 0 when a worker is replaced, which Prometheus treats as a counter reset.
  names.push('lectern_media_worker_cpu_seconds_total');
  new Counter({
    name: 'lectern_media_worker_cpu_seconds_total',
    help: 'CPU time (user + system) used by the current process of each media worker',
    labelNames: ['worker'],
    registers,
    async collect() {
      const usage = await source.cpu();
      this.reset();
      for (const w of usage) this.inc({ worker: String(w.index) }, w.cpuMs / 1000);
    },
  });

  return {
    workerDeaths: counter('lectern_media_worker_deaths_total', 'Media workers that died (and were replaced)'),
    roomResets: counter('lectern_media_room_resets_total', 'Rooms whose media was torn down by a worker death'),
    edgeRoutersCreated: counter(
      'lectern_media_edge_routers_created_total',
      'Routers added on another worker for the viewers of a full room',
    ),
    unregister() {
      for (const name of names) registry?.removeSingleMetric(name);
    },
  };
}
