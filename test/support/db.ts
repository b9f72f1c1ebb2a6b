import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { Datasource } from '../../src/db/datasource.js'
import { type Db, openDb } from '../../src/db/open.js'
import type { NewOutMessage } from '../../src/db/schema.js'

/**
 * The stores every database test runs on: SQLite always, PostgreSQL when TEST_POSTGRES_URL is set
 * (CI sets it; `.ci/run` shows how). Each test gets a fresh SQLite file or a fresh PostgreSQL schema.
 */
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? ''

export type StoreKind = 'sqlite' | 'postgres'

export const STORES: StoreKind[] = POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite']

let warned = false
export function warnIfPostgresSkipped(): void {
  if (!POSTGRES_URL && !warned) {
    warned = true
    console.warn(
      '[tests] TEST_POSTGRES_URL is not set: PostgreSQL variants of the store tests are SKIPPED (SQLite only)',
    )
  }
}

export interface TestStore {
  datasource: Datasource
  /** a datasource URL in the form difi.datasource.url takes */
  url: string
  dir: string
  open(): Promise<Db>
  /** drops the schema / removes the folder */
  cleanup(): Promise<void>
}

export async function createTestStore(kind: StoreKind): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'ip-test-'))
  if (kind === 'sqlite') {
    const path = join(dir, 'ip.sqlite')
    const datasource: Datasource = { kind: 'sqlite', path }
    return {
      datasource,
      url: `jdbc:sqlite:${path}`,
      dir,
      open: () => openDb(datasource, { cwd: dir }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  const schema = `t_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: POSTGRES_URL })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  await admin.end()
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('currentSchema', schema)
  // every statement prepared on the server from its first use: the tests run the named path throughout
  const datasource: Datasource = {
    kind: 'postgres',
    connectionString: POSTGRES_URL,
    schema,
    prepareThreshold: 1,
  }
  return {
    datasource,
    url: url.toString(),
    dir,
    open: () => openDb(datasource, { cwd: dir }),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL })
      await c.connect()
      await c.query(`drop schema if exists ${schema} cascade`)
      await c.end()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** An outgoing message's row with nothing but its ids set (`values` for the rest). */
export function outMessageRow(
  messageId: string,
  at: number,
  values: Partial<NewOutMessage> = {},
): NewOutMessage {
  return {
    message_id: messageId,
    conversation_id: `c-${messageId}`,
    process_identifier: null,
    document_identifier: null,
    type: 'arkivmelding',
    receiver_identifier: null,
    sender_identifier: null,
    service_identifier: 'DPO',
    sbd: '{}',
    state: 'CREATED',
    created_at: at,
    last_updated: at,
    ...values,
  }
}
