import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/types.js'
import type { Db } from '../../src/db/open.js'
import { createPayloadStore } from '../../src/files/choose-store.js'
import { createLocalPayloadStore, type PayloadStore } from '../../src/files/payload-store.js'
import { buildApp } from '../../src/http/app.js'
import type { AppDeps } from '../../src/http/app-deps.js'
import type { BusinessKeys } from '../../src/packaging/keys.js'
import { createServiceRegistryClient } from '../../src/registry/client.js'
import { parseSbd } from '../../src/sbd/parse.js'
import { SERVICE_IDENTIFIERS, type ServiceIdentifier } from '../../src/sbd/types.js'
import { ManualClock } from '../../src/util/time.js'
import { createTestStore, type StoreKind, type TestStore } from './db.js'
import { type FakeRegistry, startFakeRegistry } from './fake-registry.js'

export const OWN_ORG = '910077473'

/**
 * One integration point on a real socket, on a fresh store, talking to a fake ServiceRegistry
 * that answers every fixture, with a clock the test moves.
 */
export interface TestIp {
  url: string
  config: Config
  db: Db
  store: TestStore
  registry: FakeRegistry
  payloads: PayloadStore
  clock: ManualClock
  deps: AppDeps
  /** fetch against the API; `auth` adds the test credentials when security is on */
  fetch(path: string, init?: RequestInit): Promise<Response>
  json<T = Record<string, unknown>>(
    path: string,
    init?: RequestInit,
  ): Promise<{ status: number; body: T; headers: Headers }>
  close(): Promise<void>
}

export const TEST_USER = { name: 'fagsystem', password: 'hemmelig' }

export async function startTestIp(
  kind: StoreKind,
  opts: {
    overrides?: Record<string, string>
    clock?: ManualClock
    keys?: BusinessKeys | null
    transports?: readonly ServiceIdentifier[]
    /** the payload store a start would choose (createPayloadStore), also with use-db-persistence unset */
    configuredPayloadStore?: boolean
  } = {},
): Promise<TestIp> {
  const store = await createTestStore(kind)
  const registry = await startFakeRegistry()
  registry.useAllFixtures()
  const clock = opts.clock ?? new ManualClock('2026-03-10T10:00:00+01:00')
  const config = loadConfig({
    cwd: store.dir,
    env: {},
    overrides: {
      'difi.move.org.number': OWN_ORG,
      'difi.move.serviceregistryEndpoint': registry.url,
      'difi.datasource.url': store.url,
      'difi.move.nextmove.filedir': join(store.dir, 'messages'),
      'difi.security.enable': 'false',
      'difi.security.user.name': TEST_USER.name,
      'difi.security.user.password': TEST_USER.password,
      'difi.ssl.enabled': 'false',
      'difi.move.feature.enableDPO': 'true',
      'difi.move.feature.enableDPV': 'true',
      'difi.move.feature.enableDPI': 'true',
      'difi.move.feature.enableDPE': 'true',
      'difi.move.feature.enableDPF': 'true',
      'difi.move.feature.enableDPH': 'true',
      'difi.move.dph.her-ids': '8143548',
      ...opts.overrides,
    },
  })
  const db = await store.open()
  // files unless a test sets difi.move.nextmove.use-db-persistence=true: many tests look at the files
  const payloads =
    config.nextmove.useDbPersistence || opts.configuredPayloadStore
      ? createPayloadStore({ config, db, cwd: store.dir, clock })
      : createLocalPayloadStore(config.nextmove.filedir, { clock })
  const srClient = createServiceRegistryClient({ ...config.serviceRegistry, clock })
  const deps: AppDeps = {
    config,
    db,
    clock,
    registry: srClient,
    payloads,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    newUuid: randomUUID,
    // an API-only test point: every service counts as deliverable, so create can be tested for each
    transports: new Set(opts.transports ?? SERVICE_IDENTIFIERS),
    ...(opts.keys !== undefined ? { keys: opts.keys } : {}),
  }
  const app = await buildApp(deps)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const auth = `Basic ${Buffer.from(`${TEST_USER.name}:${TEST_USER.password}`).toString('base64')}`
  const doFetch = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    if (config.security.enable && !headers.has('authorization')) headers.set('authorization', auth)
    return fetch(`${address}${path}`, { ...init, headers })
  }
  return {
    url: address,
    config,
    db,
    store,
    registry,
    payloads,
    clock,
    deps,
    fetch: doFetch,
    async json<T>(path: string, init?: RequestInit) {
      const res = await doFetch(path, init)
      const text = await res.text()
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers }
    },
    async close() {
      await app.close()
      await srClient.close()
      await db.close()
      await registry.close()
      await store.cleanup()
    },
  }
}

/** JSON POST/PUT init. */
export function jsonBody(body: unknown, method = 'POST'): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

export const PROCESS = {
  administrasjon: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
  response: 'urn:no:difi:profile:arkivmelding:response:ver1.0',
  info: 'urn:no:difi:profile:digitalpost:info:ver1.0',
  vedtak: 'urn:no:difi:profile:digitalpost:vedtak:ver1.0',
  innsynskrav: 'urn:no:difi:profile:einnsyn:innsynskrav:ver1.0',
  journalpost: 'urn:no:difi:profile:einnsyn:journalpost:ver1.0',
  avtalt: 'urn:no:difi:profile:avtalt:avtalt:ver1.0',
}

/** A minimal arkivmelding SBD as the docs' example (`Eksempel/saksbehandling.md`). */
export function arkivmeldingSbd(
  opts: { receiver?: string; messageId?: string; process?: string; hoveddokument?: string } = {},
) {
  return {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      receiver: [
        { identifier: { authority: 'iso6523-actorid-upis', value: `0192:${opts.receiver ?? '910075918'}` } },
      ],
      documentIdentification: {
        standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
        type: 'arkivmelding',
        typeVersion: '2.0',
        ...(opts.messageId ? { instanceIdentifier: opts.messageId } : {}),
      },
      businessScope: {
        scope: [{ identifier: opts.process ?? PROCESS.administrasjon, type: 'ConversationId' }],
      },
    },
    arkivmelding: opts.hoveddokument ? { hoveddokument: opts.hoveddokument } : {},
  }
}

/** A whole arkivmelding SBD as a peer sends it to us (for tests that take one in as a channel would). */
export function incomingArkivmeldingSbd(
  messageId: string,
  opts: { from: string; to?: string; hoveddokument?: string },
) {
  return parseSbd({
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: [{ identifier: { value: `0192:${opts.from}`, authority: 'iso6523-actorid-upis' } }],
      receiver: [{ identifier: { value: `0192:${opts.to ?? OWN_ORG}`, authority: 'iso6523-actorid-upis' } }],
      documentIdentification: {
        standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
        typeVersion: '2.0',
        instanceIdentifier: messageId,
        type: 'arkivmelding',
        creationDateAndTime: '2026-03-10T09:00:00+01:00',
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: randomUUID(),
            identifier: PROCESS.administrasjon,
            scopeInformation: [{ expectedResponseDateTime: '2026-03-11T10:00:00+01:00' }],
          },
        ],
      },
    },
    arkivmelding: opts.hoveddokument ? { hoveddokument: opts.hoveddokument } : {},
  })
}

/** Names of the files under the payload folder (`sub` = 'out' for stored payloads, '' for everything, temp files included). */
export function filesUnder(ip: TestIp, sub: string): string[] {
  const root = join(ip.config.nextmove.filedir, sub)
  if (!existsSync(root)) return []
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => d.name)
}
