import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db';
import type { ValidationReport } from './validation';

export interface StoredVersion {
  version: string;
  parentVersion: string | null;
  kind: 'incremental' | 'full';
  status: 'serving' | 'retired' | 'rejected';
  trainedExamples: number;
  validation: ValidationReport | Record<string, never>;
  checkpointBytes: number | null;
  createdAt: string;
  promotedAt: string | null;
}

export interface NewVersion {
  kind: 'incremental' | 'full';
  parentVersion: string | null;
  trainedExamples: number;
  validation: ValidationReport;
  checkpoint: Uint8Array;
}

/**
 * Model versions in Postgres (`recommender_models`): every version the trainer offered, with its
 * validation, named `m<id>`. Promoting one retires the serving one in the same transaction (a
 * unique index allows one `serving` row). Checkpoints are kept for the serving version and the
 * `keep` most recent promoted ones, so any node can load what serves and an operator can roll back.
 */
export class ModelStore {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly keep: number,
  ) {}

  /** The serving version and its checkpoint, if any version has been promoted. */
  async loadServing(): Promise<{ version: string; checkpoint: Uint8Array } | undefined> {
    const row = await this.db
      .selectFrom('recommender_models')
      .select(['version', 'checkpoint'])
      .where('status', '=', 'serving')
      .executeTakeFirst();
    if (!row?.checkpoint) return undefined;
    return { version: row.version, checkpoint: new Uint8Array(row.checkpoint) };
  }

  async servingVersion(): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('recommender_models')
      .select('version')
      .where('status', '=', 'serving')
      .executeTakeFirst();
    return row?.version;
  }

  /** Records a version; with `promote` it becomes the serving one. Resolves its name. */
  async record(v: NewVersion, promote: boolean): Promise<string> {
    return this.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{
        id: string;
      }>`SELECT nextval(pg_get_serial_sequence('recommender_models', 'id'))::text AS id`.execute(trx);
      const id = Number(rows[0].id);
      const version = `m${id}`;
      if (promote) {
        await trx
          .updateTable('recommender_models')
          .set({ status: 'retired' })
          .where('status', '=', 'serving')
          .execute();
      }
      await trx
        .insertInto('recommender_models')
        .values({
          id,
          version,
          parent_version: v.parentVersion,
          kind: v.kind,
          status: promote ? 'serving' : 'rejected',
          trained_examples: v.trainedExamples,
          validation: JSON.stringify(v.validation),
          // Rejected versions keep their metrics, not their weights: they can never serve.
          checkpoint: promote
            ? Buffer.from(v.checkpoint.buffer, v.checkpoint.byteOffset, v.checkpoint.byteLength)
            : null,
          checkpoint_bytes: v.checkpoint.byteLength,
          promoted_at: promote ? sql<Date>`now()` : null,
        } as never)
        .execute();
      if (promote) {
        await sql`
          UPDATE recommender_models SET checkpoint = NULL
          WHERE checkpoint IS NOT NULL AND status <> 'serving'
            AND id NOT IN (
              SELECT id FROM recommender_models WHERE checkpoint IS NOT NULL ORDER BY id DESC LIMIT ${this.keep + 1}
            )
        `.execute(trx);
      }
      return version;
    });
  }

  /** The most recent versions, newest first (for status and operators). */
  async versions(limit = 20): Promise<StoredVersion[]> {
    const rows = await this.db
      .selectFrom('recommender_models')
      .select([
        'version',
        'parent_version',
        'kind',
        'status',
        'trained_examples',
        'validation',
        'checkpoint_bytes',
        'created_at',
        'promoted_at',
      ])
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      version: r.version,
      parentVersion: r.parent_version,
      kind: r.kind,
      status: r.status,
      trainedExamples: r.trained_examples,
      validation: r.validation as StoredVersion['validation'],
      checkpointBytes: r.checkpoint_bytes,
      createdAt: r.created_at.toISOString(),
      promotedAt: r.promoted_at?.toISOString() ?? null,
    }));
  }
}
