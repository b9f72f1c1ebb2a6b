import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { signJws } from '../../packaging/jws.js'
import { dpiProcess, dpiStandard } from '../../sbd/dpi.js'
import type { Clock } from '../../util/time.js'
import { type ServiceRegistryStandIn, startServiceRegistry } from '../service-registry/server.js'
import { multipart, type Part } from '../svarut/test-support.js'
import type { DpiFaults } from './faults.js'
import { type DpiStandInServer, startDpi } from './server.js'
import type { DpiSettings } from './settings.js'

/** Test helpers for the DPI stand-in (not part of the build). */

export const ORG_A = '910075918'
export const ORG_B = '910077473'
export const MAILBOX_PROVIDER = '910094548'
export const PRINT_PROVIDER = '910085379'
export const API = '/api/v2/dpi'

export function tempDir(prefix = 'dpi-standin-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** The sandbox catalogue's registry in a temp folder: it generates every organisation's keys there. */
export async function startRegistry(): Promise<{ url: string; dataDir: string; close(): Promise<void> }> {
  const dir = tempDir('dpi-registry-')
  const registry: ServiceRegistryStandIn = await startServiceRegistry({
    port: 0,
    dataDir: dir.path,
    logger: pino({ level: 'silent' }),
    watch: false,
  })
  return {
    url: registry.url,
    dataDir: dir.path,
    close: async () => {
      await registry.close()
      dir.remove()
    },
  }
}

export interface Harness {
  url: string
  dataDir: string
  registry: { url: string; dataDir: string }
  published: string[][]
  server: DpiStandInServer
  close(): Promise<void>
  /** stops the stand-in and starts it again on the same data folder */
  restart(o?: { clock?: Clock; settings?: Partial<DpiSettings> }): Promise<void>
}

export const FAST: Partial<DpiSettings> = { handoverDelayMs: 10, printDelayMs: 10 }

export async function harness(
  registry: { url: string; dataDir: string },
  o: { settings?: Partial<DpiSettings>; faults?: DpiFaults; clock?: Clock } = {},
): Promise<Harness> {
  const dir = tempDir()
  const published: string[][] = []
  const start = (clock = o.clock, settings = o.settings) =>
    startDpi({
      port: 0,
      dataDir: dir.path,
      registryDataDir: registry.dataDir,
      logger: pino({ level: 'silent' }),
      ...(clock ? { clock } : {}),
      ...(o.faults ? { faults: o.faults } : {}),
      settings: { serviceRegistryUrl: registry.url, ...FAST, ...settings },
      onReceipt: (orgs) => published.push(orgs),
    })
  const h: Harness = {
    url: '',
    dataDir: dir.path,
    registry,
    published,
    server: await start(),
    close: async () => {
      await h.server.close()
      dir.remove()
    },
    restart: async (r = {}) => {
      await h.server.close()
      h.server = await start(r.clock ?? o.clock, { ...o.settings, ...r.settings })
      h.url = h.server.url
    },
  }
  h.url = h.server.url
  return h
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned Maskinporten-style access token, as the Maskinporten stand-in issues them. */
export function token(
  org = ORG_A,
  o: { scope?: string; exp?: number; supplier?: string; extra?: Record<string, unknown> } = {},
): string {
  const now = Math.floor(Date.now() / 1000)
  return `${b64({ alg: 'none' })}.${b64({
    scope: o.scope ?? 'digitalpostinnbygger:send',
    consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${org}` },
    ...(o.supplier ? { supplier: { authority: 'iso6523-actorid-upis', ID: `0192:${o.supplier}` } } : {}),
    iss: 'maskinporten-stand-in',
    iat: now,
    exp: o.exp ?? now + 120,
    ...o.extra,
  })}.`
}

/** An organisation's generated business key pair in the registry's folder. */
export function orgKeys(registryDir: string, org: string): { keyPem: string; certPem: string } {
  return {
    keyPem: readFileSync(join(registryDir, 'keys', `${org}.key.pem`), 'utf8'),
    certPem: readFileSync(join(registryDir, 'certs', `${org}.cert.pem`), 'utf8'),
  }
}

export const digestOf = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64')

const ADDRESS = {
  navn: 'Kari Papir Utskrift',
  adresselinje1: 'c/o Nordmann',
  postnummer: '5003',
  poststed: 'BERGEN',
}

/** A business message as the integration point makes one (the minimal form of the specification). */
export function businessMessage(o: {
  type: 'digital' | 'utskrift'
  org?: string
  token: string
  pkg: Buffer
  id?: string
  conversationId?: string
  avsenderidentifikator?: string
  aapningskvittering?: boolean
  postkasseadresse?: string
  /** the SBD receiver (default: the sandbox's mailbox provider, or its printer) */
  provider?: string
}) {
  const org = o.org ?? ORG_A
  const avsender = {
    virksomhetsidentifikator: { authority: 'iso6523-actorid-upis', value: `0192:${org}` },
    ...(o.avsenderidentifikator ? { avsenderidentifikator: o.avsenderidentifikator } : {}),
  }
  const common = {
    avsender,
    dokumentpakkefingeravtrykk: {
      digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256',
      digestValue: digestOf(o.pkg),
    },
    maskinportentoken: o.token,
  }
  const body =
    o.type === 'digital'
      ? {
          ...common,
          mottaker: { postkasseadresse: o.postkasseadresse ?? 'ola.digital#1A2B' },
          sikkerhetsnivaa: 3,
          virkningstidspunkt: '2026-08-20T00:00:00+02:00',
          aapningskvittering: o.aapningskvittering ?? false,
          ikkesensitivtittel: 'Vedtak om barnehageplass',
          spraak: 'NO',
          varsler: {},
        }
      : {
          ...common,
          mottaker: ADDRESS,
          utskriftstype: 'SORT_HVIT',
          retur: {
            mottaker: { ...ADDRESS, navn: 'TEST - SANDKASSE ETAT A' },
            returposthaandtering: 'DIREKTE_RETUR',
          },
          posttype: 'B',
        }
  return {
    standardBusinessDocument: {
      standardBusinessDocumentHeader: {
        headerVersion: '1.0',
        sender: [{ identifier: { authority: 'iso6523-actorid-upis', value: `0192:${org}` } }],
        receiver: [
          {
            identifier: {
              authority: 'iso6523-actorid-upis',
              value: `0192:${o.provider ?? (o.type === 'digital' ? MAILBOX_PROVIDER : PRINT_PROVIDER)}`,
            },
          },
        ],
        documentIdentification: {
          standard: dpiStandard(o.type),
          typeVersion: '1.0',
          instanceIdentifier: o.id ?? randomUUID(),
          type: o.type,
          creationDateAndTime: '2026-08-20T10:15:30.12+02:00',
        },
        businessScope: {
          scope: [
            {
              type: 'ConversationId',
              instanceIdentifier: o.conversationId ?? randomUUID(),
              identifier: dpiProcess(o.type),
              scopeInformation: [{ expectedResponseDateTime: '2026-08-21T10:15:30+02:00' }],
            },
          ],
        },
      },
      [o.type]: body,
    },
  }
}

export type Letter = ReturnType<typeof businessMessage>

export const idOf = (l: Letter) =>
  l.standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier

/** `POST /messages/out` with the two parts as the reference sends them (or the parts given). */
export async function send(
  url: string,
  o: { token: string; jws?: string; pkg?: Buffer; kanal?: string; parts?: Part[]; prefix?: string },
): Promise<Response> {
  const parts = o.parts ?? [
    { name: 'forretningsmelding', filename: 'sbd.jwt', type: 'application/jwt', body: o.jws ?? '' },
    { name: 'dokumentpakke', filename: 'asic.cms', type: 'application/cms', body: o.pkg ?? Buffer.alloc(0) },
  ]
  const { body, contentType } = multipart(parts)
  const kanal = o.kanal ?? 'no_difi_move_integrasjonspunkt'
  return fetch(`${url}${o.prefix ?? API}/messages/out?kanal=${encodeURIComponent(kanal)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.token}`, 'content-type': contentType },
    body: new Uint8Array(body),
  })
}

/** a business message for `org` signed with its registry key, and the call that sends it */
export async function signedLetter(
  registryDir: string,
  o: Omit<Parameters<typeof businessMessage>[0], 'token' | 'pkg'> & {
    token?: string
    pkg?: Buffer
    signer?: string
  },
) {
  const org = o.org ?? ORG_A
  const t = o.token ?? token(org)
  const pkg = o.pkg ?? Buffer.from(`package ${randomUUID()}`)
  const letter = businessMessage({ ...o, token: t, pkg })
  const jws = await signJws(letter, orgKeys(registryDir, o.signer ?? org))
  return { letter, id: idOf(letter), jws, pkg, token: t }
}

export async function poll(
  url: string,
  t: string,
  query = '',
): Promise<{ status: number; items: { forretningsmelding: string; downloadurl: string }[] }> {
  const res = await fetch(`${url}${API}/messages/in${query}`, { headers: { authorization: `Bearer ${t}` } })
  if (res.status === 204) return { status: 204, items: [] }
  return {
    status: res.status,
    items: (await res.json()) as { forretningsmelding: string; downloadurl: string }[],
  }
}

/** the receipt's type and id, read from its JWS payload without checking it */
export function peek(jws: string): { type: string; id: string; body: Record<string, unknown> } {
  const doc = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'))
  const di = doc.standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification
  return { type: di.type, id: di.instanceIdentifier, body: doc.standardBusinessDocument[di.type] }
}

export { multipart }
