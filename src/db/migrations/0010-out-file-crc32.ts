import type { Kysely } from 'kysely'
import type { DialectCapabilities } from '../capabilities.js'

/**
 * The CRC-32 of an outgoing file, counted as it was uploaded: a send then stores an incompressible
 * document with its size and CRC-32 in the zip's local header (as Java's ZipInputStream requires)
 * without reading the whole file once first for them. Null for a file stored before this, or by a way
 * that does not count it: the send reads it first, as before.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> {
  await db.schema.alterTable('out_files').addColumn('crc32', caps.bigint).execute()
}
