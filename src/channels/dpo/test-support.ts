// Test helpers for the DPO channel: identities, a stand-in broker, and a server that never answers.

import { createHash, randomUUID } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { pino } from 'pino'
import { makeIdentity, makeTempDir, type TestIdentity } from '../../packaging/test-support.js'
import { EXCHANGE_PATH, MASKINPORTEN_PATH } from '../../standins/altinn-broker/app.js'
import { type BrokerFaults, startAltinnBroker } from '../../standins/altinn-broker/server.js'
import type { Clock } from '../../util/time.js'
import { createDpoTokenSource, type TokenSource } from './token.js'

export const RESOURCE = 'eformidling-dpo-meldingsutveksling'
export const AUDIENCE = 'https://test.maskinporten.no/'

export interface Org {
  orgNumber: string
  identity: TestIdentity
}

/** Two organisations with their own keys (generated once per test file: RSA key generation is slow). */
export function makeOrgs(dir: string): { a: Org; b: Org } {
  return {
    a: { orgNumber: '910075918', identity: makeIdentity(dir, 'org-a') },
    b: { orgNumber: '910077473', identity: makeIdentity(dir, 'org-b') },
  }
}

export async function startBroker(opts: { clock?: Clock; faults?: BrokerFaults } = {}) {
  const temp = makeTempDir('dpo-broker-')
  const broker = await startAltinnBroker({
    port: 0,
    dataDir: temp.dir,
    logger: pino({ level: 'silent' }),
    ...opts,
  })
  return {
    broker,
    exchangeUrl: `${broker.url}${EXCHANGE_PATH}`,
    maskinportenUrl: `${broker.url}${MASKINPORTEN_PATH}`,
    apiUrl: `${broker.url}/broker/api/v1`,
    close: async () => {
      await broker.close()
      temp.cleanup()
    },
  }
}

export function tokenSourceFor(
  org: Org,
  exchangeUrl: string,
  clock: Clock,
  extra: { fetch?: typeof fetch; timeoutMs?: number; maskinportenUrl?: string } = {},
): TokenSource {
  return createDpoTokenSource({
    orgNumber: org.orgNumber,
    systemUserName: `${org.orgNumber}_integrasjonspunkt_systembruker_${org.orgNumber}`,
    keyPem: org.identity.keyPem,
    certPem: org.identity.certPem,
    maskinportenAudience: AUDIENCE,
    exchangeUrl,
    maskinportenUrl: extra.maskinportenUrl ?? null,
    clock,
    timeoutMs: extra.timeoutMs ?? 5_000,
    fetch: extra.fetch,
  })
}

/** A TCP server that accepts connections and never says a word. */
export async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * `size` deterministic pseudo-random bytes made in 64 KiB chunks as they are read, never held whole;
 * `digest()` gives their SHA-256 once the stream has ended.
 */
export function generatedStream(size: number, seed = 1): { stream: Readable; digest(): string } {
  const hash = createHash('sha256')
  let state = seed >>> 0
  let left = size
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null)
      const chunk = Buffer.allocUnsafe(Math.min(left, 64 * 1024))
      for (let i = 0; i < chunk.length; i += 4) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0
        chunk.writeUInt32LE(state, i) // sizes are multiples of 4 in these tests
      }
      left -= chunk.length
      hash.update(chunk)
      this.push(chunk)
    },
  })
  return { stream, digest: () => hash.digest('hex') }
}

export async function sha256Of(stream: Readable): Promise<{ hex: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of stream) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { hex: hash.digest('hex'), size }
}

/** An arkivmelding SBD (plain JSON) from `sender` to `receiver` (identifiers with 0192:), valid for an hour. */
export function arkivmeldingDocument(sender: string, receiver: string, hoveddokument: string) {
  return {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: [{ identifier: { value: sender, authority: 'iso6523-actorid-upis' } }],
      receiver: [{ identifier: { value: receiver, authority: 'iso6523-actorid-upis' } }],
      documentIdentification: {
        standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
        typeVersion: '2.0',
        instanceIdentifier: randomUUID(),
        type: 'arkivmelding',
        creationDateAndTime: new Date().toISOString(),
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: randomUUID(),
            identifier: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
            scopeInformation: [{ expectedResponseDateTime: new Date(Date.now() + 3600_000).toISOString() }],
          },
        ],
      },
    },
    arkivmelding: { hoveddokument },
  }
}
