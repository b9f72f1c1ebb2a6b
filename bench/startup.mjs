// Start to ready (issue 6): from spawning `integrasjonspunkt start` to the first 200 on
// /manage/health/readiness, measured from outside as an orchestrator sees it (the full /manage/health
// also asks the ServiceRegistry and the brokers, which a benchmark does not run), on SQLite and (with BENCH_POSTGRES_URL or
// TEST_POSTGRES_URL) PostgreSQL; the first start on an empty database (it creates the schema) and
// restarts on the same data. Baseline: a bare `node -e` HTTP server, spawned and probed the same way.
//
//   npm run build && node bench/startup.mjs
//
// Knobs: BENCH_RUNS (10 per variant), BENCH_PROBE_PATH (/manage/health/readiness; /api/conversations is
// used when that answers 404), BENCH_NODE_ARGS (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof), BENCH_CLI (another
// build's cli.js, e.g. a prototype's, instead of dist/src/cli.js), BENCH_NODE (another node binary, e.g. a Node 22
// or 24 runtime, for the integration point and the baseline alike).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { benchProperties, startRegistry } from './support.mjs'

const RUNS = Number(process.env.BENCH_RUNS ?? 10)
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? ''
const CLI = process.env.BENCH_CLI ?? new URL('../dist/src/cli.js', import.meta.url).pathname
const NODE = process.env.BENCH_NODE ?? process.execPath
let probePath = process.env.BENCH_PROBE_PATH ?? '/manage/health/readiness'

/**
 * Spawns `args` and, once its output names the port it listens on (the integration point's "ready on"
 * line; port 0 lets the system choose, so runs beside other processes never race for a port), polls
 * `path` until it answers 200. Returns the ms from spawn to that 200, and the child.
 */
async function timeToReady(args, cwd) {
  const started = performance.now()
  const child = spawn(NODE, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let port = null
  let exited = null
  let wake = () => {}
  const onData = (d) => {
    out += d
    port ??= /ready on https?:\/\/[^:\s"]+:(\d+)/.exec(out)?.[1] ?? null
    wake()
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  child.once('exit', (code) => {
    exited = code
    wake()
  })
  while (port === null) {
    if (exited !== null) throw new Error(`exited ${exited} before it was ready:\n${out}`)
    await new Promise((r) => {
      wake = r
    })
  }
  for (;;) {
    if (exited !== null) throw new Error(`exited ${exited} before it was ready:\n${out}`)
    try {
      const res = await fetch(`http://127.0.0.1:${port}${probePath}`, { signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer()
      if (res.status === 200) return { ms: performance.now() - started, child }
      if (res.status === 404 && probePath.startsWith('/manage/health')) {
        probePath = '/api/conversations'
        console.log(`(no ${probePath} here: probing /api/conversations instead)`)
        continue
      }
    } catch {
      // not answering yet
    }
    await new Promise((r) => setTimeout(r, 2))
  }
}

function stop(child) {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((r) => {
    child.once('exit', r)
    child.kill('SIGTERM')
  })
}

async function measureIp(label, datasource, registryUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'startup-bench-'))
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const times = []
  try {
    for (let i = 0; i < RUNS; i++) {
      const file = join(dir, 'integrasjonspunkt-local.properties')
      const props = benchProperties(registryUrl, {
        'difi.datasource.url': datasource,
        'server.port': '0',
      })
      writeFileSync(
        file,
        Object.entries(props)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n'),
      )
      const { ms, child } = await timeToReady([...nodeArgs, CLI, 'start', '--config', file], dir)
      times.push(ms)
      await stop(child)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return { label, first: times[0], restarts: times.slice(1) }
}

async function measureBaseline() {
  const times = []
  for (let i = 0; i < RUNS; i++) {
    const code =
      "const s = require('node:http').createServer((q, r) => r.end('ok'))\n" +
      "s.listen(0, '127.0.0.1', () => console.log('ready on http://127.0.0.1:' + s.address().port))"
    const { ms, child } = await timeToReady(['-e', code], process.cwd())
    times.push(ms)
    await stop(child)
  }
  return { label: 'baseline: bare `node -e` HTTP server', first: times[0], restarts: times.slice(1) }
}

async function withPostgresSchema(fn) {
  const schema = `bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: POSTGRES_URL })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  try {
    const url = new URL(POSTGRES_URL)
    url.searchParams.set('currentSchema', schema)
    return await fn(url.toString())
  } finally {
    await admin.query(`drop schema ${schema} cascade`)
    await admin.end()
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] }
}
const ms = (x) => `${Math.round(x)} ms`

const registry = await startRegistry()
try {
  const results = [await measureBaseline()]
  const sqliteDir = mkdtempSync(join(tmpdir(), 'startup-sqlite-'))
  try {
    results.push(await measureIp('SQLite', `jdbc:sqlite:${join(sqliteDir, 'ip.sqlite')}`, registry.url))
  } finally {
    rmSync(sqliteDir, { recursive: true, force: true })
  }
  if (POSTGRES_URL)
    results.push(await withPostgresSchema((url) => measureIp('PostgreSQL', url, registry.url)))
  else console.log('(BENCH_POSTGRES_URL / TEST_POSTGRES_URL not set: PostgreSQL skipped)')

  console.log(`\nstart → first 200 on ${probePath}, ${RUNS} runs each (first: empty database)\n`)
  console.log('| | first start | restarts: min | median | max |')
  console.log('|---|---|---|---|---|')
  for (const r of results) {
    const s = stats(r.restarts)
    console.log(`| ${r.label} | ${ms(r.first)} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.max)} |`)
  }
} finally {
  registry.close()
}
