// Start to ready (issue 6): from spawning `integrasjonspunkt start` to the first 200 on
// /manage/health/readiness, measured from outside as an orchestrator sees it (the full /manage/health
// also asks the ServiceRegistry and the brokers, which a benchmark does not run), on SQLite and (with BENCH_POSTGRES_URL or
// TEST_POSTGRES_URL) PostgreSQL; the first start on an empty database (it creates the schema) and
// restarts on the same data. Baseline: a bare `node -e` HTTP server, spawned and probed the same way. The
// variants take turns, one start of each per round, and the table ends with each median over the baseline's.
//
//   npm run build && node bench/startup.mjs
//
// Knobs: BENCH_RUNS (10 per variant), BENCH_PROBE_PATH (/manage/health/readiness; /api/conversations is
// used when that answers 404), BENCH_NODE_ARGS (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof), BENCH_CLI (another
// build's cli.js, e.g. a prototype's, instead of dist/src/cli.js), BENCH_NODE (another node binary, e.g. a Node 22
// or 24 runtime, for the integration point and the baseline alike), BENCH_CLIS (several builds to compare,
// `label=path/to/cli.js,label=...`: each starts in turn with the others on SQLite, with a compile cache
// folder of its own so that one build's cache does not replace another's, and the table adds each one's
// median difference from the first, round by round).
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
const CLIS = (process.env.BENCH_CLIS ?? '')
  .split(',')
  .filter(Boolean)
  .map((item) => {
    const at = item.indexOf('=')
    return { label: item.slice(0, at), cli: item.slice(at + 1) }
  })
const NODE = process.env.BENCH_NODE ?? process.execPath
let probePath = process.env.BENCH_PROBE_PATH ?? '/manage/health/readiness'

/**
 * Spawns `args` and, once its output names the port it listens on (the integration point's "ready on"
 * line; port 0 lets the system choose, so runs beside other processes never race for a port), polls
 * `path` until it answers 200. Returns the ms from spawn to that 200, and the child.
 */
async function timeToReady(args, cwd, env = {}) {
  const started = performance.now()
  const child = spawn(NODE, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
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

/**
 * A way to start a server, timed once per call: `integrasjonspunkt start` on one database (the first call
 * finds it empty), or the bare baseline.
 */
function ipVariant(label, datasource, registryUrl, cli = CLI, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'startup-bench-'))
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const file = join(dir, 'integrasjonspunkt-local.properties')
  const props = benchProperties(registryUrl, { 'difi.datasource.url': datasource, 'server.port': '0' })
  writeFileSync(
    file,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  )
  return {
    label,
    times: [],
    async once() {
      const { ms, child } = await timeToReady([...nodeArgs, cli, 'start', '--config', file], dir, env)
      this.times.push(ms)
      await stop(child)
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

function baselineVariant() {
  const code =
    "const s = require('node:http').createServer((q, r) => r.end('ok'))\n" +
    "s.listen(0, '127.0.0.1', () => console.log('ready on http://127.0.0.1:' + s.address().port))"
  return {
    label: 'baseline: bare `node -e` HTTP server',
    times: [],
    async once() {
      const { ms, child } = await timeToReady(['-e', code], process.cwd())
      this.times.push(ms)
      await stop(child)
    },
    cleanup: () => {},
  }
}

/** A fresh schema on POSTGRES_URL, and how to drop it. */
async function postgresSchema() {
  const schema = `bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: POSTGRES_URL })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('currentSchema', schema)
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`drop schema ${schema} cascade`)
      await admin.end()
    },
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] }
}
const ms = (x) => `${Math.round(x)} ms`

const registry = await startRegistry()
const sqliteDir = mkdtempSync(join(tmpdir(), 'startup-sqlite-'))
const schema = POSTGRES_URL ? await postgresSchema() : null
const cacheDir = mkdtempSync(join(tmpdir(), 'startup-cache-'))
const variants = CLIS.length
  ? [
      baselineVariant(),
      ...CLIS.map(({ label, cli }, i) =>
        ipVariant(`SQLite, ${label}`, `jdbc:sqlite:${join(sqliteDir, `ip-${i}.sqlite`)}`, registry.url, cli, {
          NODE_COMPILE_CACHE: join(cacheDir, String(i)),
        }),
      ),
    ]
  : [
      baselineVariant(),
      ipVariant('SQLite', `jdbc:sqlite:${join(sqliteDir, 'ip.sqlite')}`, registry.url),
      ...(schema ? [ipVariant('PostgreSQL', schema.url, registry.url)] : []),
    ]
try {
  if (!schema && !CLIS.length)
    console.log('(BENCH_POSTGRES_URL / TEST_POSTGRES_URL not set: PostgreSQL skipped)')
  // in turn, one start of each per round, so a load that comes and goes falls on all of them alike
  for (let i = 0; i < RUNS; i++) for (const v of variants) await v.once()

  console.log(`\nstart → first 200 on ${probePath}, ${RUNS} runs each in turn (first: empty database)\n`)
  console.log('| | first start | restarts: min | median | max | median ÷ baseline |')
  console.log('|---|---|---|---|---|---|')
  const baseline = stats(variants[0].times.slice(1)).median
  for (const v of variants) {
    const s = stats(v.times.slice(1))
    const ratio = (s.median / baseline).toFixed(1)
    console.log(
      `| ${v.label} | ${ms(v.times[0])} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.max)} | ${ratio} |`,
    )
  }
  if (CLIS.length > 1) {
    // the same round's starts saw about the same load, so their differences spread less than the times
    console.log('\nrestarts, each build minus the first in the same round: min / median / max')
    const first = variants[1].times
    for (const v of variants.slice(2)) {
      const d = stats(v.times.slice(1).map((t, i) => t - first[i + 1]))
      console.log(`- ${v.label}: ${Math.round(d.min)} / ${Math.round(d.median)} / ${Math.round(d.max)} ms`)
    }
  }
} finally {
  for (const v of variants) v.cleanup()
  rmSync(sqliteDir, { recursive: true, force: true })
  rmSync(cacheDir, { recursive: true, force: true })
  await schema?.drop()
  registry.close()
}
