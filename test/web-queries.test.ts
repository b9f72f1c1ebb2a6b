import { randomUUID } from 'node:crypto'
import {
  CompiledQuery,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  sql,
} from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { insertConversation, registerStatus } from '../src/conversations/repository.js'
import type { Db, Executor } from '../src/db/open.js'
import { buildApp } from '../src/http/app.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { OWN_ORG, startTestIp, type TestIp } from './support/ip.js'

warnIfPostgresSkipped()

/** The tables that grow with traffic: no page may read one of them whole. */
const WATCHED = ['conversations', 'message_statuses', 'jobs', 'in_messages']
/**
 * The conversation list's orders: walking one of these indexes, newest (or oldest) first, is how the
 * unfiltered list reads its page, and stops after it. Any other index read whole is a full scan.
 */
const ORDERED_WALKS = ['conversations_last_update', 'conversations_created']
const SERVICES = ['DPO', 'DPO', 'DPO', 'DPV', 'DPE', 'DPH']
const PEERS = ['910075918', '910076787', '910075926', '09118532322']
const TITLES = [
  'Vedtak om tilskudd',
  'Søknad om skjenkebevilling',
  'Klage på vedtak',
  'Innsynskrav',
  'Møteinnkalling',
]

/**
 * Every query each web page runs, caught on its way to the database and explained with its own
 * parameters: SQLite's EXPLAIN QUERY PLAN and PostgreSQL's EXPLAIN (with sequential scans priced out,
 * so a plan that still has one has no index to use). A table scan of a growing table fails; so does a
 * walk of a whole index, unless the query stops at a LIMIT. Named pages must use the named indexes.
 */
describe.each(STORES)('the web pages’ queries on %s', (kind) => {
  let ip: TestIp
  let seeded: Seeded
  let app: Awaited<ReturnType<typeof buildApp>>
  const captured: CompiledQuery[] = []

  beforeAll(async () => {
    ip = await startTestIp(kind)
    seeded = await seed(ip.db, ip.clock.now().getTime())
    app = await buildApp({ ...ip.deps, db: capturing(ip.db, captured) })
  }, 60_000)
  afterAll(async () => {
    await app?.close()
    await ip?.close()
  })

  const pages = (): [string, string[]][] => [
    // the waiting jobs by state: either index on jobs that starts with state serves it (the planner picks)
    [
      '/',
      [
        'message_statuses_status_time|message_statuses_last_update',
        'jobs_due|jobs_finished_updated',
        'in_messages_peek',
      ],
    ],
    ['/conversations', []],
    ['/conversations?page=3&size=20&sort=created,asc', []],
    [`/conversations?search=${seeded.messageId}`, ['conversations_message_id']],
    [`/conversations?search=${seeded.conversationId}`, ['conversations_conversation_id']],
    [`/conversations?search=0192:${PEERS[0]}`, ['conversations_sender', 'conversations_receiver']],
    [`/conversations?search=${seeded.reference}`, ['conversations_reference']],
    ['/conversations?status=FEIL', ['conversations_latest_status']],
    [
      '/conversations?status=LEVETID_UTLOPT&direction=INCOMING&sort=lastUpdate,asc',
      ['conversations_latest_status'],
    ],
    ['/conversations?service=DPH', ['conversations_service']],
    ['/conversations?direction=INCOMING', []],
    ['/conversations?from=2026-03-01&to=2026-03-05', ['conversations_last_update']],
    [`/conversations?reference=${encodeURIComponent(seeded.reference)}`, ['conversations_reference']],
    ['/conversations?title=skjenk', [kind === 'sqlite' ? 'conversations_fts' : 'conversations_title_words']],
    [`/messages/${seeded.messageId}`, ['conversations_message_id', 'jobs_message_id']],
    [`/messages/${seeded.incomingId}`, []],
  ]

  it('reads every growing table through an index, on every page', async () => {
    const problems: string[] = []
    for (const [url, indexes] of pages()) {
      captured.length = 0
      const res = await app.inject({ method: 'GET', url })
      expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(200)
      const selects = captured.filter((q) => /^\s*(select|with)\b/i.test(q.sql))
      expect(selects.length, url).toBeGreaterThan(0)
      const plans: string[] = []
      for (const q of selects) {
        const plan = await explain(ip.db, q)
        plans.push(plan.text)
        for (const p of plan.fullScans) problems.push(`${url}: ${p}\n  in: ${q.sql}\n  plan: ${plan.text}`)
      }
      if (process.env.SHOW_PLANS) console.log(url, '\n ', plans.join('\n  '))
      // `a|b`: either will do (PostgreSQL may read a time range through either statuses index)
      for (const index of indexes)
        if (!plans.some((p) => index.split('|').some((i) => p.includes(i))))
          problems.push(`${url}: no plan uses ${index}\n${plans.join('\n')}`)
    }
    expect(problems, problems.join('\n\n')).toEqual([])
  })

  it('reads a common title word in the page’s order instead of sorting every match', async () => {
    // 2,000 more titles with the same word: SQLite then walks the last-update order (see title-search.ts)
    const at = ip.clock.now().getTime()
    for (let b = 0; b < 4; b++)
      await ip.db.kysely
        .insertInto('conversations')
        .values(
          Array.from({ length: 500 }, (_, n) => ({
            conversation_id: randomUUID(),
            message_id: randomUUID(),
            sender: null,
            sender_identifier: null,
            receiver: null,
            receiver_identifier: null,
            process_identifier: null,
            document_identifier: null,
            message_reference: null,
            message_title: `Byggesak ${b * 500 + n}`,
            service_identifier: 'DPO',
            direction: 'OUTGOING' as const,
            expiry: null,
            finished: 1,
            pollable: 0,
            external_system_reference: null,
            created_at: at - n,
            last_update: at - n,
          })),
        )
        .execute()
    captured.length = 0
    const res = await app.inject({ method: 'GET', url: '/conversations?title=bygg' })
    expect(res.statusCode).toBe(200)
    const list = captured.find((q) => /from "conversations"/.test(q.sql) && /limit/.test(q.sql))!
    const plan = await explain(ip.db, list)
    expect(plan.fullScans).toEqual([])
    if (kind === 'sqlite') {
      expect(plan.text).toContain('SCAN conversations USING INDEX conversations_last_update')
      expect(plan.text).not.toContain('TEMP B-TREE')
    }
  })

  it('would notice a full scan', async () => {
    // the check itself: a filter on a column without an index is a table scan
    const k = ip.db.kysely
    const unindexed = k
      .selectFrom('conversations')
      .selectAll()
      .where('document_identifier', '=', 'x')
      .compile()
    expect((await explain(ip.db, unindexed)).fullScans).not.toEqual([])
    // and SQLite's min() by walking an index from its start, which the overview once did
    const walk = k
      .selectFrom('in_messages')
      .select((eb) => eb.fn.min('last_updated').as('at'))
      .where('lock_timeout', '<=', 0)
      .compile()
    if (kind === 'sqlite') expect((await explain(ip.db, walk)).fullScans).not.toEqual([])
  })
})

interface Plan {
  text: string
  fullScans: string[]
}

async function explain(db: Db, q: CompiledQuery): Promise<Plan> {
  const limited = /\blimit\b/i.test(q.sql)
  if (db.caps.name === 'sqlite') {
    const rows = (
      await db.kysely.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
      )
    ).rows
    const fullScans = rows
      .map((r) => r.detail)
      .filter((d) => {
        // SCAN reads a table or index whole; so does a SEARCH with no condition (min/max by an index walk)
        const m =
          /^(?:SCAN (\w+)(?: AS \w+)?(.*)|SEARCH (\w+)(?: AS \w+)?( USING (?:COVERING )?INDEX \w+))$/.exec(d)
        const table = m?.[1] ?? m?.[3]
        if (!m || !table || !watched(table, q.sql)) return false
        // the list's order walked stops at the LIMIT; anything else reads the whole table
        const how = m[2] ?? m[4] ?? ''
        return !(limited && ORDERED_WALKS.some((i) => how.includes(`INDEX ${i}`)))
      })
    return { text: rows.map((r) => r.detail).join(' | '), fullScans }
  }
  const plan = await db.kysely.transaction().execute(async (trx: Executor) => {
    // priced out: a sequential scan (so one still chosen means no index can serve), and the hash and
    // merge joins a planner prefers on a few hundred rows, which read the whole joined table; at a
    // million rows it joins the few matching statuses to their conversations by key, as here
    await sql`set local enable_seqscan = off`.execute(trx)
    await sql`set local enable_hashjoin = off`.execute(trx)
    await sql`set local enable_mergejoin = off`.execute(trx)
    const r = await trx.executeQuery<{ 'QUERY PLAN': unknown }>(
      CompiledQuery.raw(`explain (format json) ${q.sql}`, [...q.parameters]),
    )
    return r.rows[0]!['QUERY PLAN']
  })
  const fullScans: string[] = []
  walk((plan as { Plan: PgNode }[])[0]!.Plan, (node) => {
    const table = node['Relation Name']
    if (!table || !WATCHED.includes(table)) return
    if (node['Node Type'] === 'Seq Scan') fullScans.push(`Seq Scan on ${table}`)
    const walk = limited && ORDERED_WALKS.includes(node['Index Name'] ?? '')
    if (/Index/.test(node['Node Type'] ?? '') && !node['Index Cond'] && !walk)
      fullScans.push(`${node['Node Type']} of all of ${table} (${node['Index Name']})`)
  })
  return { text: JSON.stringify(plan), fullScans }
}

type PgNode = Record<string, string | undefined> & { Plans?: PgNode[] }

function walk(node: PgNode, visit: (n: PgNode) => void): void {
  visit(node)
  for (const child of node.Plans ?? []) walk(child, visit)
}

/** A name in a SQLite plan: a watched table, or an alias the query gives one. */
function watched(name: string, text: string): boolean {
  if (WATCHED.includes(name)) return true
  return WATCHED.some((t) => new RegExp(`"${t}" as "${name}"`).test(text))
}

/** The app's database with every query it runs copied into `into`, compiled as it will run. */
function capturing(db: Db, into: CompiledQuery[]): Db {
  const executor = db.kysely.getExecutor()
  const plugin: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs) {
      into.push(executor.compileQuery(args.node, args.queryId))
      return args.node
    },
    async transformResult(args: PluginTransformResultArgs) {
      return args.result
    },
  }
  return { ...db, kysely: db.kysely.withPlugin(plugin) }
}

interface Seeded {
  messageId: string
  conversationId: string
  reference: string
  incomingId: string
}

/**
 * Conversations over most of a year, both ways, several services and parties, with their statuses (through
 * the repository, so latest_status and the title index are kept as in production), finished and
 * pending jobs, and an incoming queue with locked and waiting messages.
 */
async function seed(db: Db, now: number): Promise<Seeded> {
  const k = db.kysely
  let first: Seeded | undefined
  await k.transaction().execute(async (trx) => {
    for (let i = 0; i < 300; i++) {
      // one every 23 hours, over most of a year: a week is a small part of the whole, as in production
      const at = now - i * 23 * 3_600_000
      const incoming = i % 3 === 0
      const peer = PEERS[i % PEERS.length]!
      const messageId = randomUUID()
      const c = await insertConversation(trx, {
        conversation_id: randomUUID(),
        message_id: messageId,
        sender: `0192:${incoming ? peer : OWN_ORG}`,
        sender_identifier: incoming ? peer : OWN_ORG,
        receiver: `0192:${incoming ? OWN_ORG : peer}`,
        receiver_identifier: incoming ? OWN_ORG : peer,
        process_identifier: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
        document_identifier: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
        message_reference: `2026/${i}-1`,
        message_title: `${TITLES[i % TITLES.length]} ${i}`,
        service_identifier: SERVICES[i % SERVICES.length]!,
        direction: incoming ? 'INCOMING' : 'OUTGOING',
        expiry: at + 86_400_000,
        finished: 0,
        pollable: 0,
        external_system_reference: null,
        created_at: at,
        last_update: at,
      })
      const path = incoming
        ? ['OPPRETTET', 'INNKOMMENDE_MOTTATT', i % 5 ? 'INNKOMMENDE_LEVERT' : 'LEVETID_UTLOPT']
        : ['OPPRETTET', i % 7 ? 'SENDT' : 'FEIL', ...(i % 7 ? ['MOTTATT', 'LEVERT'] : [])]
      for (const [n, status] of path.entries()) await registerStatus(trx, c, { status }, at + n * 1000)
      await trx
        .insertInto('jobs')
        .values({
          kind: incoming ? 'status-reply' : 'send',
          payload: '{}',
          message_id: messageId,
          dedupe_key: `seed:${messageId}`,
          run_at: i < 5 ? now + 60_000 : at,
          attempts: 1,
          max_attempts: 1000,
          state: i < 5 ? 'PENDING' : i % 7 ? 'DONE' : 'FAILED',
          created_at: at,
          updated_at: at,
        })
        .execute()
      if (incoming && i < 30)
        await trx
          .insertInto('in_messages')
          .values({
            message_id: messageId,
            conversation_id: c.conversation_id,
            service_identifier: c.service_identifier,
            type: 'arkivmelding',
            process_identifier: c.process_identifier,
            sender_identifier: peer,
            receiver_identifier: OWN_ORG,
            sbd: '{}',
            asic_key: null,
            asic_size: 1000,
            lock_timeout: i % 2 ? now + 60_000 : null,
            created_at: at,
            last_updated: at,
          })
          .execute()
      if (i === 3) first = { messageId: '', conversationId: '', reference: '', incomingId: messageId }
      if (i === 4 && first)
        first = { ...first, messageId, conversationId: c.conversation_id, reference: `2026/${i}-1` }
    }
  })
  if (db.caps.name === 'postgres') await sql`analyze`.execute(k)
  return first!
}
