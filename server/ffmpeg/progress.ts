/** Smallest step worth telling the caller about (it may write each report to the database). */
const STEP = 0.01;

/**
 * Turns ffmpeg's progress into what `onProgress` promises: fractions that only grow, in steps of at
 * least 1%, below 1 until `done()` says 1 exactly once. A throwing callback never breaks the run.
 */
export class ProgressReporter {
  private last = 0;
  private finished = false;

  constructor(private readonly report?: (fraction: number) => void) {}

  update(fraction: number): void {
    if (!this.report || this.finished || !Number.isFinite(fraction)) return;
    const f = Math.min(0.99, Math.max(0, fraction));
    if (f < this.last + STEP) return;
    this.last = f;
    this.emit(f);
  }

  /** A reporter for one stage covering [from, to] of the whole. */
  stage(from: number, to: number): (fraction: number) => void {
    return (fraction) => this.update(from + (to - from) * Math.min(1, Math.max(0, fraction)));
  }

  done(): void {
    if (!this.report || this.finished) return;
    this.finished = true;
    this.emit(1);
  }

  private emit(fraction: number): void {
    try {
      this.report!(fraction);
    } catch {
      // The caller's bookkeeping failing is no reason to stop packaging.
    }
  }
}
