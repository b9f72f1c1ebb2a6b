// The operator's web pages over a million conversations (issue 8): seeds BENCH_CONVERSATIONS (1,000,000)
// conversations with their statuses, jobs and an incoming queue into SQLite (and PostgreSQL when
// BENCH_POSTGRES_URL or TEST_POSTGRES_URL is set) with bulk inserts, starts `integrasjonspunkt start` on
// it in its own process, and times each page: median and p95 of BENCH_RUNS (30) sequential requests
// after 3 warm-ups, beside the baseline `/manage/health/liveness` on the same server; peak RSS at the end.
//
//   npm run build && node bench/web-pages.mjs
//
// Knobs: BENCH_CONVERSATIONS, BENCH_RUNS, BENCH_STORES (sqlite,postgres), BENCH_KEEP=1 (keep the seeded
// SQLite file and PostgreSQL schema, and print where they are).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import pg from 'pg'
import { benchProperties, peakRssMiB, startIp, startRegistry } from './support.mjs'

const N = Number(process.env.BENCH_CONVERSATIONS ?? 1_000_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 30)
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? ''
const STORES = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',')
const dist = (path) => new URL(`../dist/src/${path}`, import.meta.url).href
const { openDb } = await import(dist('db/open.js'))

const DAY = 86_400_000
const NOW = Date.now()
const SPAN = 365 * DAY
const OWN = '910077473'
const SERVICES = ['DPO', 'DPO', 'DPO', 'DPO', 'DPO', 'DPV', 'DPV', 'DPI', 'DPE', 'DPF', 'DPH']
const WORDS = (
  'vedtak søknad klage tilskudd byggesak reguleringsplan skjenkebevilling innsynskrav møteinnkalling ' +
  'protokoll høring uttalelse rapport kontrakt faktura tilsyn varsel avslag godkjenning dispensasjon ' +
  'barnehage skole helse omsorg vei vann avløp brann beredskap kultur idrett næring skatt avgift eiendom ' +
  'landbruk miljø klima energi samferdsel havn arkiv personal lønn permisjon ansettelse oppsigelse budsjett'
).split(' ')
const STATUS_PATHS = {
  OUTGOING: [
    ['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'],
    ['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'],
    ['OPPRETTET', 'FEIL'],
    ['OPPRETTET', 'LEVETID_UTLOPT'],
  ],
  INCOMING: [
    ['OPPRETTET', 'INNKOMMENDE_MOTTATT', 'INNKOMMENDE_LEVERT'],
    ['OPPRETTET', 'LEVETID_UTLOPT'],
  ],
}

/** A small seeded PRNG (mulberry32), so every run seeds the same data. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const uuid = (r) =>
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    (Number(c) ^ (Math.floor(r() * 256) & (15 >> (Number(c) / 4)))).toString(16),
  )

/**
 * Conversation `i` (1-based, oldest first, evenly over a year up to now) and its statuses. Peers follow
 * a skewed distribution (a few organisations take most of the traffic), as agencies' counterparts do.
 */
function conversation(i, r) {
  const created = NOW - SPAN + Math.floor((i / N) * SPAN)
  const incoming = r() < 0.4
  const direction = incoming ? 'INCOMING' : 'OUTGOING'
  const peer = String(910_000_000 + Math.floor(2000 * r() ** 3))
  const roll = r()
  const paths = STATUS_PATHS[direction]
  const path =
    roll < 0.015
      ? paths[paths.length - 1]
      : roll < 0.03 && !incoming
        ? paths[2]
        : (paths[roll < 0.5 ? 0 : 1] ?? paths[0])
  // the last day's are still in progress
  const recent = created > NOW - DAY
  const statuses = recent ? path.slice(0, 2) : path
  const title = Array.from({ length: 2 + Math.floor(r() * 4) }, () => WORDS[Math.floor(r() * WORDS.length)])
  title[0] = title[0][0].toUpperCase() + title[0].slice(1)
  return {
    id: i,
    conversation_id: uuid(r),
    message_id: uuid(r),
    sender: `0192:${incoming ? peer : OWN}`,
    sender_identifier: incoming ? peer : OWN,
    receiver: `0192:${incoming ? OWN : peer}`,
    receiver_identifier: incoming ? OWN : peer,
    process_identifier: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
    document_identifier: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
    message_reference: `${2025 + Math.floor(i / (N / 2))}/${i}-1`,
    message_title: title.join(' '),
    service_identifier: SERVICES[Math.floor(r() * SERVICES.length)],
    direction,
    expiry: created + DAY,
    finished: recent ? 0 : 1,
    pollable: 0,
    external_system_reference: null,
    created_at: created,
    last_update: created + (statuses.length - 1) * 60_000,
    latest_status: statuses.at(-1),
    statuses: statuses.map((status, n) => ({ status, last_update: created + n * 60_000 })),
  }
}

const CONV_COLUMNS = (
  'id conversation_id message_id sender sender_identifier receiver receiver_identifier ' +
  'process_identifier document_identifier message_reference message_title service_identifier ' +
  'direction expiry finished pollable external_system_reference created_at last_update ' +
  'latest_status'
).split(' ')
const STATUS_COLUMNS = ['conversation_fk', 'status', 'description', 'raw_receipt', 'last_update']
const JOB_COLUMNS =
  'kind payload message_id dedupe_key run_at attempts max_attempts state created_at updated_at'.split(' ')

/** Rows in batches: conversations, their statuses, a send job per outgoing message, what the pages pick. */
function* batches(size) {
  const r = prng(8)
  let convs = []
  let statuses = []
  let jobs = []
  const picks = {}
  for (let i = 1; i <= N; i++) {
    const c = conversation(i, r)
    convs.push(CONV_COLUMNS.map((k) => c[k]))
    for (const s of c.statuses)
      statuses.push([i, s.status, s.status === 'FEIL' ? 'Mottaker svarte ikke' : null, null, s.last_update])
    if (c.direction === 'OUTGOING') {
      const pending = i > N - 200
      jobs.push([
        'send',
        '{}',
        c.message_id,
        `send:${c.message_id}`,
        pending ? NOW + 3_600_000 : c.created_at,
        1,
        1000,
        pending ? 'PENDING' : c.latest_status === 'FEIL' ? 'FAILED' : 'DONE',
        c.created_at,
        c.last_update,
      ])
    }
    if (i === Math.floor(N / 2))
      Object.assign(picks, {
        messageId: c.message_id,
        conversationId: c.conversation_id,
        reference: c.message_reference,
      })
    if (convs.length >= size || i === N) {
      yield { convs, statuses, jobs, picks }
      convs = []
      statuses = []
      jobs = []
    }
  }
}

/** 1,000 messages waiting for the fagsystem and 50 locked by a peek. */
function inMessages() {
  return Array.from({ length: 1050 }, (_, i) => [
    `in-${i}`,
    `in-conv-${i}`,
    'DPO',
    'arkivmelding',
    'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
    '910000001',
    OWN,
    '{}',
    null,
    1000,
    i < 50 ? NOW + 300_000 : null,
    NOW - i * 60_000,
    NOW - i * 60_000,
  ])
}
const IN_COLUMNS = (
  'message_id conversation_id service_identifier type process_identifier sender_identifier ' +
  'receiver_identifier sbd asic_key asic_size lock_timeout created_at last_updated'
).split(' ')

async function seedSqlite(path) {
  const db = await openDb({ kind: 'sqlite', path }, { cwd: tmpdir() })
  await db.close()
  const raw = new Database(path)
  raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = OFF')
  const insert = (table, columns) =>
    raw.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`)
  const conv = insert('conversations', CONV_COLUMNS)
  const status = insert('message_statuses', STATUS_COLUMNS)
  const job = insert('jobs', JOB_COLUMNS)
  const inMsg = insert('in_messages', IN_COLUMNS)
  let picks
  for (const b of batches(20_000)) {
    raw.transaction(() => {
      for (const row of b.convs) conv.run(row)
      for (const row of b.statuses) status.run(row)
      for (const row of b.jobs) job.run(row)
    })()
    picks = b.picks
  }
  raw.transaction(() => {
    for (const row of inMessages()) inMsg.run(row)
  })()
  raw.pragma('wal_checkpoint(TRUNCATE)')
  raw.close()
  return picks
}

async function seedPostgres(schema) {
  const db = await openDb({ kind: 'postgres', connectionString: POSTGRES_URL, schema }, { cwd: tmpdir() })
  await db.close()
  const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` })
  await client.connect()
  const types = {
    conversations: [
      'bigint',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'bigint',
      'int',
      'int',
      'text',
      'bigint',
      'bigint',
      'text',
    ],
    message_statuses: ['bigint', 'text', 'text', 'text', 'bigint'],
    jobs: ['text', 'text', 'text', 'text', 'bigint', 'int', 'int', 'text', 'bigint', 'bigint'],
    in_messages: [
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'bigint',
      'bigint',
      'bigint',
      'bigint',
    ],
  }
  // one statement per batch and table: each column as an array, unnested into rows
  const insert = async (table, columns, rows) => {
    if (!rows.length) return
    const arrays = columns.map((_, c) => rows.map((row) => row[c]))
    const unnest = types[table].map((t, n) => `$${n + 1}::${t}[]`).join(', ')
    await client.query(`insert into ${table} (${columns.join(', ')}) select * from unnest(${unnest})`, arrays)
  }
  let picks
  for (const b of batches(20_000)) {
    await client.query('begin')
    await insert('conversations', CONV_COLUMNS, b.convs)
    await insert('message_statuses', STATUS_COLUMNS, b.statuses)
    await insert('jobs', JOB_COLUMNS, b.jobs)
    await client.query('commit')
    picks = b.picks
  }
  await insert('in_messages', IN_COLUMNS, inMessages())
  await client.query(`select setval(pg_get_serial_sequence('conversations', 'id'), ${N})`)
  await client.query('vacuum analyze')
  await client.end()
  return picks
}

function pages(p) {
  const busy = '910000000'
  return [
    ['overview', '/'],
    ['conversations, newest first', '/conversations'],
    ['conversations, page 200', '/conversations?page=200'],
    ['conversations, oldest created first', '/conversations?sort=created,asc'],
    ['search: messageId', `/conversations?search=${p.messageId}`],
    ['search: conversationId', `/conversations?search=${p.conversationId}`],
    ['search: reference', `/conversations?search=${encodeURIComponent(p.reference)}`],
    ['search: busiest party (0192:)', `/conversations?search=0192:${busy}`],
    ['filter: status FEIL', '/conversations?status=FEIL'],
    ['filter: service DPH', '/conversations?service=DPH'],
    ['filter: direction INCOMING', '/conversations?direction=INCOMING'],
    ['filter: one day', `/conversations?from=${day(NOW - 30 * DAY)}&to=${day(NOW - 30 * DAY)}`],
    ['title: common word', '/conversations?title=vedtak'],
    ['title: two prefixes', '/conversations?title=skjenk+kult'],
    ['message page', `/messages/${p.messageId}`],
    ['configuration', '/configuration'],
  ]
}

function day(ms) {
  return new Date(ms).toLocaleDateString('sv-SE', { timeZone: 'Europe/Oslo' })
}

async function time(url) {
  const started = performance.now()
  const res = await fetch(url)
  await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`)
  return performance.now() - started
}

async function measure(base, path) {
  for (let i = 0; i < 3; i++) await time(base + path)
  const ms = []
  for (let i = 0; i < RUNS; i++) ms.push(await time(base + path))
  ms.sort((a, b) => a - b)
  return {
    median: ms[Math.floor(ms.length / 2)],
    p95: ms[Math.min(ms.length - 1, Math.ceil(ms.length * 0.95) - 1)],
  }
}

async function run(store, datasourceUrl, picks) {
  const registry = await startRegistry()
  const ip = await startIp(benchProperties(registry.url, { 'difi.datasource.url': datasourceUrl }))
  try {
    const baseline = await measure(ip.url, '/manage/health/liveness')
    console.log(`\n### ${store}, ${N.toLocaleString('en')} conversations\n`)
    console.log('| page | median ms | p95 ms | median / baseline |')
    console.log('| --- | --- | --- | --- |')
    console.log(
      `| baseline: /manage/health/liveness | ${baseline.median.toFixed(1)} | ${baseline.p95.toFixed(1)} | 1 |`,
    )
    for (const [name, path] of pages(picks)) {
      const m = await measure(ip.url, path)
      console.log(
        `| ${name} | ${m.median.toFixed(1)} | ${m.p95.toFixed(1)} | ${(m.median / baseline.median).toFixed(0)} |`,
      )
    }
    console.log(`\npeak RSS of the integration point: ${peakRssMiB(ip.child.pid)} MiB`)
  } finally {
    await ip.stop()
    registry.close()
    rmSync(ip.dir, { recursive: true, force: true })
  }
}

const dir = mkdtempSync(join(tmpdir(), 'web-bench-'))
try {
  if (STORES.includes('sqlite')) {
    const path = join(dir, 'ip.sqlite')
    const started = performance.now()
    const picks = await seedSqlite(path)
    console.log(`seeded SQLite in ${((performance.now() - started) / 1000).toFixed(0)} s: ${path}`)
    await run('SQLite', `jdbc:sqlite:${path}`, picks)
  }
  if (POSTGRES_URL && STORES.includes('postgres')) {
    const schema = `web_bench_${process.pid}`
    const admin = new pg.Client({ connectionString: POSTGRES_URL })
    await admin.connect()
    await admin.query(`create schema ${schema}`)
    try {
      const started = performance.now()
      const pgPicks = await seedPostgres(schema)
      console.log(`\nseeded PostgreSQL in ${((performance.now() - started) / 1000).toFixed(0)} s`)
      const url = new URL(POSTGRES_URL)
      url.searchParams.set('currentSchema', schema)
      await run('PostgreSQL', url.toString(), pgPicks)
    } finally {
      if (process.env.BENCH_KEEP) console.log(`kept schema ${schema}`)
      else await admin.query(`drop schema ${schema} cascade`)
      await admin.end()
    }
  }
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`)
  else rmSync(dir, { recursive: true, force: true })
}
