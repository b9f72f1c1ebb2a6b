// The last SAS key the ServiceRegistry gave, kept in the database as the reference keeps it (its
// SasKeyWrapper table): an integration point that starts while the registry is down still reads and sends
// with it. The registry client keeps the key in memory for a day and falls back to the last good one
// while it runs; this copy covers a restart in an outage, and every instance on the database shares it.

import { type Kysely, sql } from 'kysely'
import type { Logger } from 'pino'
import type { Migration } from '../../db/migrations.js'
import type { Db, Executor } from '../../db/open.js'
import { ServiceRegistryUnavailableError } from '../../registry/errors.js'
import type { Clock } from '../../util/time.js'
import type { SasKeySource } from './client.js'

export const SAS_KEY_MIGRATION: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
  async up(db: Kysely<any>, caps) {
    await db.schema
      .createTable('dpe_sas_keys')
      .ifNotExists()
      .addColumn('key_name', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('sas_key', 'text', (c) => c.notNull())
      .addColumn('fetched_at', caps.bigint, (c) => c.notNull())
      .execute()
  },
}

/** records the key fetched for `keyName` (one row per key name) */
export async function rememberSasKey(db: Executor, keyName: string, key: string, now: number): Promise<void> {
  await sql`insert into dpe_sas_keys (key_name, sas_key, fetched_at) values (${keyName}, ${key}, ${now})
    on conflict (key_name) do update set sas_key = excluded.sas_key, fetched_at = excluded.fetched_at`.execute(
    db,
  )
}

/** the key last recorded for `keyName`, or null */
export async function rememberedSasKey(db: Executor, keyName: string): Promise<string | null> {
  const { rows } = await sql<{
    sas_key: string
  }>`select sas_key from dpe_sas_keys where key_name = ${keyName}`.execute(db)
  return rows[0]?.sas_key ?? null
}

/**
 * The registry's key (`registry.sasKey()`), recorded whenever it changes; while the registry cannot be
 * reached and has not given a key since this start, the recorded one, with a warning. Any other failure
 * (no key for us: 404; a bad signature) is the registry's answer and is not papered over.
 */
export function persistedSasKeySource(o: {
  db: Db
  registry: SasKeySource
  keyName: string
  clock: Clock
  logger: Logger
}): SasKeySource {
  let recorded: string | null = null
  return {
    async key() {
      try {
        const key = await o.registry.key()
        if (key !== recorded) {
          await rememberSasKey(o.db.kysely, o.keyName, key, o.clock.now().getTime()).catch((err: unknown) =>
            o.logger.warn({ err }, 'DPE: could not record the SAS key in the database; kept in memory only'),
          )
          recorded = key
        }
        return key
      } catch (error) {
        if (!(error instanceof ServiceRegistryUnavailableError)) throw error
        const kept = await rememberedSasKey(o.db.kysely, o.keyName)
        if (kept === null) throw error
        o.logger.warn(
          `DPE: the ServiceRegistry cannot be reached (${error.message}); using the SAS key recorded when it last could`,
        )
        return kept
      }
    },
    invalidate: () => o.registry.invalidate(),
  }
}
