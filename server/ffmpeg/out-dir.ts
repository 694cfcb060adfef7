import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PLAYLIST_NAME } from './playlist';

/** What an earlier run killed half way (the node died) may have left: always ours to replace. */
const isStaleOutput = (name: string) =>
  name === PLAYLIST_NAME || /^seg_\d+\.ts$/.test(name) || name.startsWith('.work-');

/**
 * An output directory that leaves no trace of a failed run: created when missing (then removed
 * whole on failure), or, when it existed, stripped on failure of every entry the run added.
 */
export class OutputDir {
  private constructor(
    readonly dir: string,
    private readonly before: ReadonlySet<string> | null,
  ) {}

  /** The directory, its leftovers from a killed run removed. */
  static async open(dir: string): Promise<OutputDir> {
    const resolved = path.resolve(dir);
    let before: Set<string> | null = null;
    try {
      const entries = await readdir(resolved);
      const stale = entries.filter(isStaleOutput);
      await Promise.all(stale.map((name) => rm(path.join(resolved, name), { recursive: true, force: true })));
      before = new Set(entries.filter((name) => !isStaleOutput(name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await mkdir(resolved, { recursive: true });
    return new OutputDir(resolved, before);
  }

  async discard(): Promise<void> {
    if (this.before === null) {
      await rm(this.dir, { recursive: true, force: true });
      return;
    }
    const added = (await readdir(this.dir).catch(() => [] as string[])).filter((name) => !this.before!.has(name));
    await Promise.all(added.map((name) => rm(path.join(this.dir, name), { recursive: true, force: true })));
  }

  /** Runs `work` in the directory; on failure discards what it wrote and rethrows. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      await this.discard().catch(() => {});
      throw err;
    }
  }
}
