// Shared pieces of the benchmarks: a minimal ServiceRegistry answering one DPO receiver, starting the
// integration point as its own process (so its memory is measured alone), and peak-RSS readings.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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

/** The properties every benchmark's integration point runs with: SQLite, no auth, no TLS, DPO on. */
export function benchProperties(registryUrl, extra = {}) {
  return {
    'difi.move.org.number': OWN_ORG,
    'difi.move.serviceregistryEndpoint': registryUrl,
    'difi.move.sign.enable': 'false',
    'difi.security.enable': 'false',
    'difi.ssl.enabled': 'false',
    'difi.move.feature.enableDPO': 'true',
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
