import { Counter, Gauge, type Registry } from 'prom-client';

export interface RecorderMetrics {
  /** A recorder ffmpeg died and its room's recording went on in a new part. */
  readonly restarts: Counter;
  /** A room's recording was given up (its ffmpeg kept dying). */
  readonly failures: Counter;
  /** Recording parts (one ffmpeg process each) started. */
  readonly partsStarted: Counter;
  /** Recording parts that ended, by how: `stopped` (cleanly), or died of a `crash`, `idle` (no media) or `interrupted`. */
  readonly partsEnded: Counter<'end'>;
  unregister(): void;
}

/** `lectern_recorder*` metrics; the gauges are read at scrape time. Without a registry they count, unexported. */
export function createRecorderMetrics(
  registry: Registry | undefined,
  source: { available(): boolean; active(): number },
): RecorderMetrics {
  const registers = registry ? [registry] : [];
  const names = [
    'lectern_recorder_available',
    'lectern_recordings_active',
    'lectern_recorder_restarts_total',
    'lectern_recorder_failures_total',
    'lectern_recording_parts_started_total',
    'lectern_recording_parts_ended_total',
  ];
  new Gauge({
    name: names[0],
    help: '1 while this node can record live rooms (ffmpeg found, recording enabled)',
    registers,
    collect() {
      this.set(source.available() ? 1 : 0);
    },
  });
  new Gauge({
    name: names[1],
    help: 'Recording parts being written (one ffmpeg process each)',
    registers,
    collect() {
      this.set(source.active());
    },
  });
  return {
    restarts: new Counter({
      name: names[2],
      help: 'Recorder ffmpeg processes that died (or failed to start) and were replaced by a new part',
      registers,
    }),
    failures: new Counter({
      name: names[3],
      help: 'Room recordings given up because their ffmpeg kept dying',
      registers,
    }),
    partsStarted: new Counter({
      name: names[4],
      help: 'Recording parts (one ffmpeg process each) started',
      registers,
    }),
    partsEnded: new Counter({
      name: names[5],
      help: 'Recording parts ended, by how: stopped (cleanly), crash, idle (no media arrived), interrupted',
      labelNames: ['end'],
      registers,
    }),
    unregister() {
      for (const name of names) registry?.removeSingleMetric(name);
    },
  };
}
