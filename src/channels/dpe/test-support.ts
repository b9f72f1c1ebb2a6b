/** The project's own DPE fixtures, for the tests in this folder only. */

import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import type { OutFileRow } from '../../db/schema.js'
import type { PayloadStore } from '../../files/payload-store.js'
import type { ServiceRegistry, SrParams } from '../../registry/client.js'
import { NotFoundInServiceRegistryError, ServiceRegistryUnavailableError } from '../../registry/errors.js'
import { parseSbd } from '../../sbd/parse.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { SANDBOX_KEY, SANDBOX_KEY_NAME } from '../../standins/service-bus/settings.js'
import type { Harness } from '../../standins/service-bus/test-support.js'
import { createServiceBusClient, type ServiceBusClient } from './client.js'

export const EINNSYN = '991825827'
export const AGENCY = '910075918'

const STANDARD: Record<string, string> = {
  innsynskrav: 'urn:no:difi:einnsyn:xsd::innsynskrav',
  publisering: 'urn:no:difi:einnsyn:xsd::publisering',
  einnsyn_kvittering: 'urn:no:difi:einnsyn:xsd::einnsyn_kvittering',
  status: 'urn:no:difi:eformidling:xsd::status',
}
const PROCESS: Record<string, string> = {
  innsynskrav: 'urn:no:difi:profile:einnsyn:innsynskrav:ver1.0',
  publisering: 'urn:no:difi:profile:einnsyn:journalpost:ver1.0',
  einnsyn_kvittering: 'urn:no:difi:profile:einnsyn:response:ver1.0',
  status: 'urn:no:difi:profile:einnsyn:response:ver1.0',
}

/** An eInnsyn SBD of `type` from `from` to `to` (bare orgnrs), valid for a year. */
export function einnsynSbd(
  type: string,
  from: string,
  to: string,
  body: Record<string, unknown>,
  messageId: string = randomUUID(),
): StandardBusinessDocument {
  return parseSbd({
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: [{ identifier: { value: `0192:${from}`, authority: 'iso6523-actorid-upis' } }],
      receiver: [{ identifier: { value: `0192:${to}`, authority: 'iso6523-actorid-upis' } }],
      documentIdentification: {
        standard: STANDARD[type],
        typeVersion: '2.0',
        instanceIdentifier: messageId,
        type,
        creationDateAndTime: new Date().toISOString(),
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: randomUUID(),
            identifier: PROCESS[type],
            scopeInformation: [
              { expectedResponseDateTime: new Date(Date.now() + 365 * 86_400_000).toISOString() },
            ],
          },
        ],
      },
    },
    [type]: body,
  })
}

export interface FakeRegistry {
  registry: ServiceRegistry
  /** the service record lookups made, by receiver */
  asked: string[]
  /** the certificate lookups made (a receiver checking a signature), by orgnr */
  certificates: string[]
  /** true: every call answers as a registry that cannot be reached */
  down: boolean
}

/**
 * A ServiceRegistry with DPE records: each receiver's queue suffix (`endpointUrl`) and certificate,
 * the certificates by orgnr (`virksert`), and the stand-in's SAS key at `/sastoken`.
 */
export function fakeRegistry(orgs: Record<string, { endpointUrl: string; certPem: string }>): FakeRegistry {
  const fake: FakeRegistry = {
    asked: [],
    certificates: [],
    down: false,
    registry: undefined as unknown as ServiceRegistry,
  }
  const unavailable = () => new ServiceRegistryUnavailableError('the ServiceRegistry cannot be reached')
  fake.registry = {
    async serviceRecord(params: SrParams, documentType: string) {
      fake.asked.push(params.identifier)
      if (fake.down) throw unavailable()
      const org = orgs[params.identifier]
      if (!org) throw new NotFoundInServiceRegistryError(`no record for ${params.identifier}`)
      return {
        organisationNumber: params.identifier,
        pemCertificate: org.certPem,
        process: params.process,
        documentTypes: [documentType],
        service: { identifier: 'DPE', endpointUrl: org.endpointUrl },
      }
    },
    async certificate(orgnr: string) {
      fake.certificates.push(orgnr)
      if (fake.down) throw unavailable()
      const org = orgs[orgnr]
      if (!org) throw new NotFoundInServiceRegistryError(`no certificate for ${orgnr}`)
      return org.certPem
    },
    async sasKey() {
      return SANDBOX_KEY
    },
    invalidateSasKey() {},
  } as unknown as ServiceRegistry
  return fake
}

/** A client of the stand-in, its SAS signed with the stand-in's clock. */
export function clientOf(h: Harness): ServiceBusClient {
  return createServiceBusClient({
    baseUrl: h.url.replace(/^http:\/\//, ''),
    useHttps: false,
    sasKeyName: SANDBOX_KEY_NAME,
    keys: { key: async () => SANDBOX_KEY, invalidate: () => {} },
    timeoutMs: 5_000,
    maxBodyBytes: 8 * 1024 * 1024,
    peekWaitSeconds: 1,
    now: () => h.clock.now().getTime(),
  })
}

/** Stores `files` as an outgoing message's, the rows the sender is given. */
export async function storedFiles(
  payloads: PayloadStore,
  files: { name: string; type: string; bytes: Buffer }[],
): Promise<OutFileRow[]> {
  const rows: OutFileRow[] = []
  for (const [i, f] of files.entries()) {
    const key = `out/${randomUUID()}/${i}`
    const written = await payloads.write(key, Readable.from([f.bytes]), {
      maxBytes: 1024 * 1024,
      onLimit: () => new Error('too big'),
    })
    rows.push({
      filename: f.name,
      mime_type: f.type,
      storage_key: key,
      size: written.size,
      title: null,
      primary_document: i === 0 ? 1 : 0,
    } as OutFileRow)
  }
  return rows
}
