import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { altinnStandIn } from '../../src/channels/altinn-standin.js'
import { svarUtStandIn } from '../../src/channels/dpf/channel.js'
import type { StandIn } from '../../src/channels/ports.js'
import { loadConfig } from '../../src/config/load.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from '../../src/main.js'
import { businessKeystore, sandboxProperties } from '../../src/sandbox.js'
import { type AltinnBrokerStandIn, startAltinnBroker } from '../../src/standins/altinn-broker/server.js'
import { startServiceRegistry } from '../../src/standins/service-registry/server.js'
import { type SvarUtStandIn, startSvarUt } from '../../src/standins/svarut/server.js'
import { createTestStore, type StoreKind, type TestStore } from './db.js'
import { eventually, json } from './poll.js'

type Json = Record<string, any>

export const SENDER = '910075918'
/** the sandbox catalogue's municipality, reached by DPF only */
export const KOMMUNE = '910229028'

/**
 * What the SvarUt stand-in does to the calls `faultOn` picks: nothing, a 503 before it acts, or the
 * answer lost after it acted.
 */
export type Fault = 'none' | 'error' | 'drop'

/**
 * One integration point (910075918) with DPF through the SvarUt stand-in in this process (the Altinn
 * stand-in only for its Maskinporten token), the ServiceRegistry stand-in's sandbox catalogue, on a store
 * of `kind`. Statuses are polled every 100 ms; SvarInn at once when the stand-in says something arrived.
 */
export interface DpfWorld {
  readonly ip: RunningIntegrationPoint
  readonly svarutUrl: string
  fault: Fault
  /** which SvarUt calls the fault touches (default all): `(method, url) => boolean` */
  faultOn: (method: string, url: string) => boolean
  /** the stand-in's forsendelser as its sandbox API lists them */
  forsendelser(mottaker?: string): Promise<Json[]>
  /** waits for the one forsendelse with this eksternRef */
  forsendelseOf(messageId: string): Promise<Json>
  /** the municipality reads it in the stand-in */
  read(id: string): Promise<void>
  /** sets any SvarUt status (the stand-in's hook) */
  setStatus(id: string, status: string, hendelse?: string): Promise<void>
  /** a municipality's forsendelse to `mottaker`'s SvarInn: its id */
  answer(o: {
    mottaker: string
    tittel: string
    files: Record<string, Buffer | string>
    extra?: Json
  }): Promise<string>
  statuses(messageId: string): Promise<string[]>
  untilStatuses(messageId: string, want: string[]): Promise<string[]>
  stopIp(): Promise<void>
  startIp(): Promise<void>
  close(): Promise<void>
}

export async function startDpfWorld(
  kind: StoreKind,
  opts: { props?: Record<string, string>; mottakerCertificatePem?: string } = {},
): Promise<DpfWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'dpf-'))
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const registryDir = join(dir, 'sr')
  const registry = await startServiceRegistry({ port: 0, dataDir: registryDir, logger, watch: false })
  let fault: Fault = 'none'
  let faultOn: (method: string, url: string) => boolean = () => true
  let altinn: AltinnBrokerStandIn | undefined
  let svarut: SvarUtStandIn | undefined
  let store: TestStore | undefined
  let ip: RunningIntegrationPoint | undefined
  let nudge = () => {}
  const close = async () => {
    await ip?.stop()
    await svarut?.close()
    await altinn?.close()
    await registry.close()
    await store?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    altinn = await startAltinnBroker({ port: 0, dataDir: join(dir, 'altinn'), logger })
    svarut = await startSvarUt({
      port: 0,
      dataDir: join(dir, 'svarut'),
      logger,
      // as the sandbox: SvarUt's pair is the registry's generated `svarut` credential
      keysDir: registryDir,
      settings: {
        serviceRegistryUrl: registry.url,
        ...(opts.mottakerCertificatePem
          ? {
              mottakersystemer: [
                {
                  username: SENDER,
                  password: 'sandbox',
                  orgnr: SENDER,
                  certificatePem: opts.mottakerCertificatePem,
                },
              ],
            }
          : {}),
      },
      faults: {
        errorRate: 0.5,
        dropResponseRate: 1,
        // one draw per check: below 0.5 fails the call (503), from 0.5 up to 1 loses the answer
        random: () => (fault === 'error' ? 0 : fault === 'drop' ? 0.7 : 1),
        applies: (method, url) => faultOn(method, url),
      },
      onArrived: () => nudge(),
    })
    const urls = new Map<StandIn, string>([
      [altinnStandIn, altinn.url],
      [svarUtStandIn, svarut.url],
    ])
    store = await createTestStore(kind)
    const config = loadConfig({
      cwd: store.dir,
      env: {},
      overrides: {
        ...sandboxProperties(
          SENDER,
          0,
          registry.url,
          (s) => urls.get(s),
          businessKeystore(registryDir, SENDER, store.dir),
        ),
        'difi.datasource.url': store.url,
        'difi.move.fiks.ut.status-pollingrate': '100',
        'difi.move.fiks.pollingrate': '200',
        'difi.move.nextmove.retry.initial-interval-ms': '100',
        'difi.move.nextmove.retry.max-interval-ms': '300',
        // SvarUt refuses a document it cannot print unless it is kept out of print: the fixture's .docx is
        'difi.move.fiks.ut.ekskluderes-fra-print': 'docx',
        ...opts.props,
      },
    })
    const start = { config, cwd: store.dir, logger }
    ip = await startIntegrationPoint(start)
    nudge = () => ip?.nudgeReceivers()
    const svarutUrl = svarut.url
    const post = async (path: string, body?: Json) => {
      const res = await json(`${svarutUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      })
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(res.body)}`)
      return res.body
    }
    const world: DpfWorld = {
      get ip() {
        if (!ip) throw new Error('the integration point is stopped')
        return ip
      },
      svarutUrl,
      get fault() {
        return fault
      },
      set fault(f: Fault) {
        fault = f
      },
      get faultOn() {
        return faultOn
      },
      set faultOn(f) {
        faultOn = f
      },
      async forsendelser(mottaker) {
        const q = mottaker ? `?mottaker=${mottaker}` : ''
        const res = await json(`${svarutUrl}/sandbox/api/forsendelser${q}`)
        if (res.status !== 200) throw new Error(`the stand-in's list answered ${res.status}`)
        return res.body as unknown as Json[]
      },
      async forsendelseOf(messageId) {
        return eventually(async () => {
          const found = (await world.forsendelser()).filter((f) => f.eksternRef === messageId)
          if (found.length > 1) throw new Error(`${found.length} forsendelser for ${messageId}`)
          return found[0]
        }, `the forsendelse of ${messageId}`)
      },
      async read(id) {
        await post(`/sandbox/api/forsendelser/${id}/read`)
      },
      async setStatus(id, status, hendelse) {
        await post(`/sandbox/api/forsendelser/${id}/status`, { status, ...(hendelse ? { hendelse } : {}) })
      },
      async answer(o) {
        const form = new FormData()
        const f = { avsender: KOMMUNE, mottaker: o.mottaker, tittel: o.tittel, ...o.extra }
        form.append('forsendelse', new Blob([JSON.stringify(f)], { type: 'application/json' }))
        for (const [name, bytes] of Object.entries(o.files)) {
          const data = typeof bytes === 'string' ? bytes : new Uint8Array(bytes)
          form.append('dokument', new Blob([data], { type: 'application/pdf' }), name)
        }
        const res = await fetch(`${svarutUrl}/sandbox/api/forsendelser`, { method: 'POST', body: form })
        const body = (await res.json()) as Json
        if (res.status !== 200)
          throw new Error(`the answer was refused ${res.status}: ${JSON.stringify(body)}`)
        return body.id as string
      },
      async statuses(messageId) {
        const res = await json(`${world.ip.url}/api/statuses/${messageId}?sort=id&size=100`)
        return (res.body.content as Json[]).map((s) => s.status)
      },
      untilStatuses(messageId, want) {
        return eventually(
          async () => {
            const got = await world.statuses(messageId)
            return want.every((s) => got.includes(s)) ? got : undefined
          },
          `${want.join(', ')} on ${messageId}`,
        )
      },
      async stopIp() {
        await ip?.stop()
        ip = undefined
      },
      async startIp() {
        ip = await startIntegrationPoint(start)
      },
      close,
    }
    return world
  } catch (error) {
    await close()
    throw error
  }
}
