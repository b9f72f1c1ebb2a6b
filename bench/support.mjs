// Shared pieces of the benchmarks: a minimal ServiceRegistry answering one DPO receiver, starting the
// integration point as its own process (so its memory is measured alone), and peak-RSS readings; for
// issue 4, the sandbox and the stand-ins as child processes and the messages the DPO benchmarks send.

import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export const RECEIVER = '910075918'
export const OWN_ORG = '910077473'
export const PROCESS = 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0'

export function startRegistry() {
  const record = (process) => ({
    organisationNumber: RECEIVER,
    pemCertificate: null,
    process,
    documentTypes: ['urn:no:difi:arkivmelding:xsd::arkivmelding'],
    service: {
      identifier: 'DPO',
      endpointUrl: 'https://example.invalid',
      serviceCode: '4192',
      serviceEditionCode: '270815',
      securityLevel: null,
      resource: null,
    },
  })
  const body = JSON.stringify({
    infoRecord: { identifier: RECEIVER, organizationName: 'Bench', entityType: { name: 'ORGL' } },
    serviceRecords: [record(PROCESS)],
  })
  let calls = 0
  const server = createServer((_req, res) => {
    calls++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(body)
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        calls: () => calls,
        close: () => server.close(),
      }),
    ),
  )
}

/**
 * A self-signed business certificate and key as one PEM key store, made once per run: with DPO on, the
 * integration point will not start without one.
 */
let benchKeystore
function selfSignedKeystore() {
  if (benchKeystore) return benchKeystore
  const dir = mkdtempSync(join(tmpdir(), 'bench-keys-'))
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${OWN_ORG}`, '-days', '2'].concat([
      '-keyout',
      key,
      '-out',
      cert,
    ]),
    { stdio: 'ignore' },
  )
  benchKeystore = join(dir, 'keystore.pem')
  writeFileSync(benchKeystore, readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return benchKeystore
}

/** The properties every benchmark's integration point runs with: SQLite, no auth, no TLS, DPO on. */
export function benchProperties(registryUrl, extra = {}) {
  return {
    'difi.move.org.number': OWN_ORG,
    'difi.move.org.keystore.path': selfSignedKeystore(),
    'difi.move.org.keystore.type': 'PEM',
    'difi.move.serviceregistryEndpoint': registryUrl,
    'difi.move.sign.enable': 'false',
    'difi.security.enable': 'false',
    'difi.ssl.enabled': 'false',
    'difi.move.feature.enableDPO': 'true',
    // the send jobs must not reach Altinn or Maskinporten from a benchmark: a closed local port
    'difi.move.dpo.brokerserviceUrl': 'http://127.0.0.1:9/broker/api/v1',
    'difi.move.dpo.altinnTokenExchangeUrl': 'http://127.0.0.1:9/authentication/api/v1/exchange/maskinporten',
    'difi.move.oidc.url': 'http://127.0.0.1:9/token',
    'server.port': '0',
    'server.address': '127.0.0.1',
    ...extra,
  }
}

/** Starts `integrasjonspunkt start` in a child process with the given properties; resolves when it listens. */
export async function startIp(properties) {
  const dir = mkdtempSync(join(tmpdir(), 'ip-bench-'))
  const file = join(dir, 'integrasjonspunkt-local.properties')
  writeFileSync(
    file,
    Object.entries(properties)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  )
  // BENCH_NODE_ARGS passes flags such as --cpu-prof to the integration point's process
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const cli = new URL('../dist/src/cli.js', import.meta.url).pathname
  const child = spawn(process.execPath, [...nodeArgs, cli, 'start'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /ready on (https?:\/\/[^"\s]+)/.exec(out)
      if (m) resolve(m[1])
    })
    child.once('exit', (code) => reject(new Error(`integration point exited ${code}: ${out}`)))
  })
  child.stdout.resume()
  return {
    child,
    dir,
    url,
    stop: () =>
      new Promise((r) => {
        child.once('exit', r)
        child.kill('SIGTERM')
      }),
  }
}

/** Peak resident set size of a process, from the kernel's high-water mark (VmHWM), in MiB. */
export function peakRssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)[1])
  return Math.round(kb / 1024)
}

export function currentRssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024)
}

// --- issue 4: the DPO exchange, each piece in its own process ---

const CLI = new URL('../dist/src/cli.js', import.meta.url).pathname
/** `file:` URL of a module under dist/src, for the inline modules the child processes run. */
const dist = (path) => new URL(`../dist/src/${path}`, import.meta.url).href
/** pino as the project has it, found from here so a child running in a temp folder can import it */
const PINO = pathToFileURL(createRequire(import.meta.url).resolve('pino')).href

/** The sandbox's two organisations: A sends, B receives. */
export const ORG_A = '910075918'
export const ORG_B = '910077473'

/**
 * Spawns `node` with `args` in `cwd` and resolves when its stdout matches `ready` (the match's first group
 * is returned as `ready`); stderr is inherited, stdout kept draining.
 */
export function spawnUntil(args, cwd, ready, name) {
  // BENCH_NODE_ARGS (e.g. --cpu-prof) applies to these children as to startIp's
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (d) => {
      out += d
      const m = ready.exec(out)
      if (!m) return
      child.stdout.off('data', onData)
      child.off('exit', onExit)
      child.stdout.resume()
      resolve({ child, ready: m[1], stop: () => stopChild(child) })
    }
    const onExit = (code) => reject(new Error(`${name} exited ${code} before it was ready: ${out}`))
    child.stdout.on('data', onData)
    child.once('exit', onExit)
  })
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((r) => {
    child.once('exit', r)
    child.kill('SIGTERM')
  })
}

/**
 * An ES module given as text, run by its own `node` in `cwd`; it prints `BENCH-READY <json>` once it
 * is up, and that JSON is returned as `info`.
 */
async function startModule(code, cwd, name) {
  const started = await spawnUntil(['--input-type=module', '-e', code], cwd, /BENCH-READY (\{.*\})\n/, name)
  return { ...started, info: JSON.parse(started.ready) }
}

/**
 * The sandbox (`npm start`: ServiceRegistry and broker stand-ins, two integration points) in one child
 * process with free ports and its data in a fresh temp folder. The broker nudges B when a transfer is
 * published, as in `npm start`.
 */
export async function startSandboxProcess() {
  const dir = mkdtempSync(join(tmpdir(), 'dpo-sandbox-'))
  const code = `
    import { pino } from '${PINO}'
    import { startSandbox } from '${dist('sandbox.js')}'
    const s = await startSandbox({ cwd: process.cwd(), anyPorts: true, logger: pino({ level: 'warn' }, pino.destination(2)) })
    process.once('SIGTERM', () => s.stop().then(() => process.exit(0)))
    console.log('BENCH-READY ' + JSON.stringify({ registryUrl: s.registryUrl, brokerUrl: s.brokerUrl, urls: s.points.map((p) => p.url) }))
  `
  const started = await startModule(code, dir, 'sandbox')
  const [urlA, urlB] = started.info.urls
  return { ...started, dir, urlA, urlB }
}

/** `integrasjonspunkt service-registry --port 0` in `cwd` (the sandbox catalogue; keys under `cwd/sandbox-data`). */
export async function startRegistryProcess(cwd) {
  const started = await spawnUntil(
    [CLI, 'service-registry', '--port', '0'],
    cwd,
    /stand-in at (http:\/\/127\.0\.0\.1:\d+)/,
    'service-registry',
  )
  return { ...started, url: started.ready, dataDir: join(cwd, 'sandbox-data', 'service-registry') }
}

/**
 * The Altinn 3 Broker stand-in in its own process, as `integrasjonspunkt altinn-broker` runs it (its V8
 * setting included) but with a chosen `maxFileTransferSize` (the command has no option for it) and no
 * publish notification.
 */
export async function startBrokerProcess(cwd, maxFileTransferSize) {
  const code = `
    import { pino } from '${PINO}'
    import { startAltinnBroker } from '${dist('standins/altinn-broker/server.js')}'
    import { tuneRuntime } from '${dist('ops/runtime.js')}'
    // the V8 setting every command of the CLI makes first, the stand-in's own among them
    tuneRuntime()
    const b = await startAltinnBroker({
      port: 0, dataDir: process.cwd() + '/altinn-broker', logger: pino({ level: 'warn' }, pino.destination(2)),
      resource: { maxFileTransferSize: ${Number(maxFileTransferSize)} },
    })
    process.once('SIGTERM', () => b.close().then(() => process.exit(0)))
    console.log('BENCH-READY ' + JSON.stringify({ url: b.url }))
  `
  const started = await startModule(code, cwd, 'altinn-broker')
  return { ...started, url: started.info.url }
}

/**
 * The properties of one sandbox organisation's integration point (as `npm start` gives it) against the
 * given registry and broker, with its business keystore written to `keyDir`.
 */
export async function dpoProperties({ org, registryUrl, registryDir, brokerUrl, keyDir }, extra = {}) {
  const { businessKeystore, sandboxProperties } = await import(dist('sandbox.js'))
  mkdirSync(keyDir, { recursive: true })
  const keystore = businessKeystore(registryDir, org, keyDir)
  // the broker process is the Altinn stand-in (DPO's, and DPV's); the channels of the other stand-ins are
  // off, rather than polling the broker process for endpoints it does not have every few seconds
  const urlOf = (standIn) => (standIn.name === 'altinn-broker' ? brokerUrl : undefined)
  return { ...sandboxProperties(org, 0, registryUrl, urlOf, keystore), ...extra }
}

/** An arkivmelding.xml naming one document, as a fagsystem sends it. */
export function arkivmeldingXml(documentFile) {
  return `<?xml version="1.0" encoding="utf-8"?>
<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <system>bench</system><meldingId>1</meldingId><tidspunkt>2026-01-01T00:00:00</tidspunkt><antallFiler>1</antallFiler>
  <mappe xsi:type="saksmappe"><systemID>sak-1</systemID><tittel>Sak</tittel>
    <basisregistrering xsi:type="journalpost"><systemID>jp-1</systemID>
      <dokumentbeskrivelse><systemID>d-1</systemID><tittel>Dokument</tittel><tilknyttetRegistreringSom>Hoveddokument</tilknyttetRegistreringSom><dokumentnummer>1</dokumentnummer>
        <dokumentobjekt><versjonsnummer>1</versjonsnummer><variantformat>Produksjonsformat</variantformat><referanseDokumentfil>${documentFile}</referanseDokumentfil></dokumentobjekt>
      </dokumentbeskrivelse>
      <tittel>Vedtak</tittel><offentligTittel>Vedtak</offentligTittel><journalpostnummer>1</journalpostnummer>
    </basisregistrering>
  </mappe>
</arkivmelding>`
}

/** An arkivmelding SBD to `receiver` (the sender is the integration point's own organisation). */
export function arkivmeldingSbd(receiver, documentFile, messageId) {
  return {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      receiver: [{ identifier: { authority: 'iso6523-actorid-upis', value: `0192:${receiver}` } }],
      documentIdentification: {
        standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
        type: 'arkivmelding',
        typeVersion: '2.0',
        ...(messageId ? { instanceIdentifier: messageId } : {}),
      },
      businessScope: { scope: [{ identifier: PROCESS, type: 'ConversationId' }] },
    },
    arkivmelding: { hoveddokument: documentFile },
  }
}

/**
 * A fresh schema on the PostgreSQL at `postgresUrl` (`admin` connected to it), with the datasource URL
 * that names it as the integration point reads one (`currentSchema`) and a node-postgres URL for it
 * (node-postgres reads the search path from `options`).
 */
export async function freshSchema(admin, postgresUrl, prefix = 'bench') {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`
  await admin.query(`create schema ${schema}`)
  const url = new URL(postgresUrl)
  url.searchParams.set('currentSchema', schema)
  const pgUrl = new URL(postgresUrl)
  pgUrl.searchParams.set('options', `-c search_path=${schema}`)
  return { schema, url: url.toString(), pgUrl: pgUrl.toString() }
}

/** User plus system CPU time a process has used so far, from /proc (clock ticks of 1/100 s). */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return +((Number(fields[11]) + Number(fields[12])) / 100).toFixed(2)
}

/**
 * Waits until process `pid` is idle (under 5 % of a core over half a second), up to `maxSeconds`, and
 * returns the seconds waited: the work a load left queued (jobs behind the requests it answered) runs
 * then, and must neither slip out of the CPU counted for that load nor into the next measurement.
 */
export async function waitIdle(pid, maxSeconds = 120) {
  const start = Date.now()
  for (;;) {
    const before = cpuSeconds(pid)
    await new Promise((r) => setTimeout(r, 500))
    if (cpuSeconds(pid) - before < 0.025 || Date.now() - start > maxSeconds * 1000)
      return +((Date.now() - start) / 1000).toFixed(1)
  }
}

/** p-th percentile (0–100) of numbers sorted ascending, nearest rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}
