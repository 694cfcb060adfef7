/** Where a long offline run reports how far it is. */
export interface Progress {
  /** `fraction` in [0, 1] of the current phase, named by `label`. */
  update(label: string, fraction: number, detail?: string): void;
  done(): void;
}

export const silentProgress: Progress = { update() {}, done() {} };

/**
 * A progress bar on a stream (stderr, so stdout stays machine-readable). On a terminal it
 * redraws one line; into a file or pipe it writes a line per phase and per tenth, so a CI log
 * shows progress without megabytes of carriage returns.
 */
export class ProgressBar implements Progress {
  private lastDraw = 0;
  private lastLabel = '';
  private lastTenth = -1;
  private readonly started = Date.now();

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly width = 30,
  ) {}

  update(label: string, fraction: number, detail = ''): void {
    const f = Math.min(1, Math.max(0, fraction));
    const now = Date.now();
    const elapsed = ((now - this.started) / 1000).toFixed(0);
    const filled = Math.round(f * this.width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}]`;
    const text = `${bar} ${(f * 100).toFixed(0).padStart(3)}% ${label}${detail ? ` ${detail}` : ''} (${elapsed}s)`;
    if (this.stream.isTTY) {
      if (label === this.lastLabel && now - this.lastDraw < 100 && f < 1) return;
      this.stream.write(`\r\x1b[K${text}`);
    } else {
      const tenth = Math.floor(f * 10);
      if (label === this.lastLabel && tenth === this.lastTenth) return;
      this.lastTenth = tenth;
      this.stream.write(`${text}\n`);
    }
    this.lastDraw = now;
    this.lastLabel = label;
  }

  done(): void {
    if (this.stream.isTTY && this.lastLabel) this.stream.write('\n');
    this.lastLabel = '';
  }
}
