import { type Kysely, sql } from 'kysely'
import type { DialectCapabilities } from '../capabilities.js'

/**
 * Several integration points on one database (issue: one seam for every service):
 * - `leases`: one row per singleton background task (a broker account's poller, expiry, retention,
 *   sweeps) naming the instance that runs it until `lease_until`; another instance takes it over once
 *   that has passed.
 * - `instances`: each running instance's heartbeat, so an instance can see the others (and warn when
 *   they cannot share its payload store).
 * - send and status-reply jobs become kinds per service (`send:DPO`), claimed only by instances that
 *   have the service; the rows of this database's jobs are renamed accordingly. A send job whose
 *   message is gone had nothing left to do and is closed.
 * - `broker_transfers` becomes `handovers`: what a channel handed to its service under a purpose,
 *   whatever the service (DPO's file transfer, DPV's correspondence, ...).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> {
  const big = caps.bigint
  await db.schema
    .createTable('leases')
    .ifNotExists()
    .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('holder', 'varchar(255)', (c) => c.notNull())
    .addColumn('lease_until', big, (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('instances')
    .ifNotExists()
    .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('url', 'text')
    .addColumn('payload_store', 'text', (c) => c.notNull())
    .addColumn('services', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('started_at', big, (c) => c.notNull())
    .addColumn('seen_at', big, (c) => c.notNull())
    .execute()

  await sql`update jobs set kind = ${sql.lit('send:')} || (select o.service_identifier from out_messages o where o.message_id = jobs.message_id)
    where kind = 'send' and exists (select 1 from out_messages o where o.message_id = jobs.message_id)`.execute(
    db,
  )
  await sql`update jobs set state = 'DONE', locked_by = null, locked_until = null where kind = 'send' and state = 'PENDING'`.execute(
    db,
  )
  const service =
    caps.name === 'postgres' ? sql`(payload::json ->> 'service')` : sql`json_extract(payload, '$.service')`
  await sql`update jobs set kind = ${sql.lit('status-reply:')} || ${service}
    where kind = 'status-reply' and ${service} is not null`.execute(db)

  await sql`alter table broker_transfers rename to handovers`.execute(db)
  await sql`alter table handovers rename column transfer_id to ref`.execute(db)
}
