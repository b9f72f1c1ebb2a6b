import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import SQLite from 'better-sqlite3'
import { sql } from 'kysely'
import { pino } from 'pino'
import { altinnStandIn } from '../../src/channels/altinn-standin.js'
import { dpiStandIn } from '../../src/channels/dpi/channel.js'
import type { StandIn } from '../../src/channels/ports.js'
import { loadConfig } from '../../src/config/load.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from '../../src/main.js'
import { businessKeystore, sandboxProperties } from '../../src/sandbox.js'
import { type AltinnBrokerStandIn, startAltinnBroker } from '../../src/standins/altinn-broker/server.js'
import type { DpiFaults } from '../../src/standins/dpi/faults.js'
import { type DpiStandInServer, startDpi } from '../../src/standins/dpi/server.js'
import type { DpiSettings } from '../../src/standins/dpi/settings.js'
import { startServiceRegistry } from '../../src/standins/service-registry/server.js'
import { createTestStore, type StoreKind, type TestStore } from './db.js'
import { eventually, json } from './poll.js'

type Json = Record<string, any>

export const SENDER = '910075918'
/** the sandbox catalogue's people: a mailbox, print (not notifiable), reserved (print) */
export const DIGITAL_PERSON = '01819040180'
export const PRINT_PERSON = '15857540015'
export const RESERVED_PERSON = '24816040074'

/**
 * One integration point (910075918) with DPI through the access point stand-in in this process (the Altinn
 * stand-in only for its Maskinporten token), the ServiceRegistry stand-in's sandbox catalogue, on a store of
 * `kind`. Statuses and receipts are polled every 100 ms, and at once when the stand-in queues a receipt.
 */
export interface DpiWorld {
  readonly ip: RunningIntegrationPoint
  readonly dpiUrl: string
  readonly registryDir: string
  /** the stand-in's letters as its sandbox API lists them */
  messages(recipient?: string): Promise<Json[]>
  /** waits for the one letter with this messageId in the stand-in */
  messageOf(messageId: string, until?: (m: Json) => boolean): Promise<Json>
  /** POST to the stand-in's sandbox API; the answer's body */
  sandbox(path: string, body?: Json, method?: string): Promise<{ status: number; body: Json }>
  faults(f: DpiFaults): Promise<void>
  statuses(messageId: string): Promise<string[]>
  untilStatuses(messageId: string, want: string[]): Promise<string[]>
  stopIp(): Promise<void>
  startIp(): Promise<void>
  stopStandIn(): Promise<void>
  startStandIn(): Promise<void>
  close(): Promise<void>
}

export async function startDpiWorld(
  kind: StoreKind,
  opts: { props?: Record<string, string>; settings?: Partial<DpiSettings> } = {},
): Promise<DpiWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'dpi-'))
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const registryDir = join(dir, 'sr')
  const registry = await startServiceRegistry({ port: 0, dataDir: registryDir, logger, watch: false })
  let altinn: AltinnBrokerStandIn | undefined
  let dpi: DpiStandInServer | undefined
  let store: TestStore | undefined
  let ip: RunningIntegrationPoint | undefined
  let nudge = () => {}
  const close = async () => {
    await ip?.stop()
    await dpi?.close()
    await altinn?.close()
    await registry.close()
    await store?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    altinn = await startAltinnBroker({ port: 0, dataDir: join(dir, 'altinn'), logger })
    let dpiPort = 0
    const startStandIn = async () => {
      dpi = await startDpi({
        port: dpiPort,
        dataDir: join(dir, 'dpi'),
        registryDataDir: registryDir,
        logger,
        settings: {
          serviceRegistryUrl: registry.url,
          handoverDelayMs: 50,
          printDelayMs: 100,
          ...opts.settings,
        },
        onReceipt: () => nudge(),
      })
      dpiPort = Number(new URL(dpi.url).port)
    }
    await startStandIn()
    const dpiUrl = dpi!.url
    const urls = new Map<StandIn, string>([
      [altinnStandIn, altinn.url],
      [dpiStandIn, dpiUrl],
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
        'difi.move.dpi.pollingrate': '100',
        'difi.move.dpi.status-pollingrate': '100',
        'difi.move.nextmove.retry.initial-interval-ms': '100',
        'difi.move.nextmove.retry.max-interval-ms': '300',
        ...opts.props,
      },
    })
    const start = { config, cwd: store.dir, logger }
    ip = await startIntegrationPoint(start)
    nudge = () => ip?.nudgeReceivers()
    const sandbox = async (path: string, body?: Json, method = 'POST') => {
      const res = await json(`${dpiUrl}/sandbox/api${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      })
      return { status: res.status, body: res.body as Json }
    }
    const world: DpiWorld = {
      get ip() {
        if (!ip) throw new Error('the integration point is stopped')
        return ip
      },
      dpiUrl,
      registryDir,
      async messages(recipient) {
        const q = recipient ? `?recipient=${recipient}` : ''
        const res = await json(`${dpiUrl}/sandbox/api/messages${q}`)
        if (res.status !== 200) throw new Error(`the stand-in's list answered ${res.status}`)
        return res.body as unknown as Json[]
      },
      async messageOf(messageId, until = () => true) {
        return eventually(async () => {
          const found = (await world.messages()).filter((m) => m.messageId === messageId)
          if (found.length > 1) throw new Error(`${found.length} letters for ${messageId}`)
          return found[0] && until(found[0]) ? found[0] : undefined
        }, `the letter ${messageId} in the stand-in`)
      },
      sandbox,
      async faults(f) {
        const res = await sandbox('/faults', f as Json, 'PUT')
        if (res.status !== 200) throw new Error(`faults answered ${res.status}: ${JSON.stringify(res.body)}`)
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
      async stopStandIn() {
        await dpi?.close()
        dpi = undefined
      },
      startStandIn,
      close,
    }
    return world
  } catch (error) {
    await close()
    throw error
  }
}

export const LETTER_PDF = Buffer.from(`%PDF-1.4 vedtak ${'x'.repeat(50_000)}`)
export const LETTER_HTML = Buffer.from('<html><body>Informasjon</body></html>')

/**
 * A letter from a prototype of `type` to `person`, one-step multipart with vedtak.pdf and info.html;
 * `query` is added to the prototype's (e.g. `&process=…`). The answer's status and body, and the messageId.
 */
export async function sendLetter(
  w: DpiWorld,
  type: 'digital' | 'print',
  person: string,
  edit: (sbd: Json) => void = () => {},
  files: [string, Buffer, string][] = [
    ['vedtak.pdf', LETTER_PDF, 'application/pdf'],
    ['info.html', LETTER_HTML, 'text/html'],
  ],
  query = '',
): Promise<{ messageId: string; status: number; body: unknown }> {
  const proto = await json(`${w.ip.url}/api/prototype/${type}?receiverIdentifier=${person}${query}`)
  if (proto.status !== 200)
    throw new Error(`the prototype answered ${proto.status}: ${JSON.stringify(proto.body)}`)
  const sbd = proto.body
  sbd[type] = { ...sbd[type], hoveddokument: 'vedtak.pdf' }
  if (type === 'digital')
    Object.assign(sbd.digital, { tittel: 'Vedtak om barnehageplass', sikkerhetsnivaa: 3 })
  edit(sbd)
  const messageId: string = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  for (const [name, bytes, mime] of files)
    form.append(`Tittel ${name}`, new Blob([new Uint8Array(bytes)], { type: mime }), name)
  const res = await fetch(`${w.ip.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  return { messageId, status: res.status, body: await res.json().catch(() => null) }
}

/** `GET /api/statuses/{messageId}` in order: each status with its description */
export async function statusItems(
  w: DpiWorld,
  messageId: string,
): Promise<{ status: string; description: string | null }[]> {
  const res = await json(`${w.ip.url}/api/statuses/${messageId}?sort=id&size=100`)
  if (res.status !== 200) throw new Error(`statuses answered ${res.status}`)
  return (res.body.content as Json[]).map((s) => ({ status: s.status, description: s.description ?? null }))
}

/** The receipts the access point stand-in queued for a letter, in order, from its own database. */
export function standInReceipts(
  w: DpiWorld,
  messageId: string,
): { id: string; type: string; kanal: string; read: boolean }[] {
  const db = new SQLite(join(dirname(w.registryDir), 'dpi', 'dpi.sqlite'), { readonly: true })
  try {
    const rows = db
      .prepare('SELECT id, type, kanal, read_at FROM receipt WHERE message_id = ? ORDER BY seq')
      .all(messageId) as { id: string; type: string; kanal: string; read_at: number | null }[]
    return rows.map((r) => ({ id: r.id, type: r.type, kanal: r.kanal, read: r.read_at !== null }))
  } finally {
    db.close()
  }
}

/** The integration point's `dpi_receipts` rows (every receipt it took), oldest first. */
export async function takenReceipts(
  w: DpiWorld,
): Promise<
  { receiptId: string; kanal: string; outcome: string; messageId: string | null; reason: string | null }[]
> {
  const { rows } = await sql<{
    receipt_id: string
    kanal: string
    outcome: string
    message_id: string | null
    reason: string | null
  }>`select receipt_id, kanal, outcome, message_id, reason from dpi_receipts
    order by received_at, receipt_id`.execute(w.ip.db.kysely)
  return rows.map((r) => ({
    receiptId: r.receipt_id,
    kanal: r.kanal,
    outcome: r.outcome,
    messageId: r.message_id,
    reason: r.reason,
  }))
}
