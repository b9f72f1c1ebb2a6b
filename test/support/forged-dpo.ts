// Deliveries made by hand, as an organisation on the broker could make them without an integration
// point: an ASiC-E built entry by entry (so one thing at a time can be wrong), encrypted to the
// receiver, packed into an sbd.zip and uploaded with the organisation's own system user.

import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import yazl from 'yazl'
import { type BrokerClient, createBrokerClient } from '../../src/channels/dpo/broker-client.js'
import { writeSbdZip } from '../../src/channels/dpo/sbd-zip.js'
import { RESOURCE, tokenSourceFor } from '../../src/channels/dpo/test-support.js'
import { signDetached } from '../../src/packaging/asic-signature.js'
import { ASIC_MIMETYPE, asicManifestXml } from '../../src/packaging/asic-xml.js'
import { encryptStream } from '../../src/packaging/cms.js'
import { BROKER_BASE, EXCHANGE_PATH } from '../../src/standins/altinn-broker/app.js'
import { systemClock } from '../../src/util/time.js'

export interface KeyPair {
  keyPem: string
  certPem: string
}

/** An organisation's key and certificate as the ServiceRegistry stand-in made them. */
export function registeredKeys(registryDir: string, org: string): KeyPair {
  return {
    keyPem: readFileSync(join(registryDir, 'keys', `${org}.key.pem`), 'utf8'),
    certPem: readFileSync(join(registryDir, 'certs', `${org}.cert.pem`), 'utf8'),
  }
}

export interface Entry {
  name: string
  data: Buffer
}

/**
 * An ASiC-E: mimetype, `entries`, the ASiCManifest listing `listed` (default: the same entries, with
 * their digests) and a CAdES signature over it by `signer`.
 */
export async function craftAsic(o: { signer: KeyPair; entries: Entry[]; listed?: Entry[] }): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  zip.addBuffer(Buffer.from(ASIC_MIMETYPE), 'mimetype', { compress: false })
  for (const e of o.entries) zip.addBuffer(e.data, e.name)
  const objects = (o.listed ?? o.entries).map((e) => ({
    uri: e.name,
    mimeType: e.name.endsWith('.xml') ? 'application/xml' : 'application/pdf',
    sha256: createHash('sha256').update(e.data).digest(),
  }))
  const sigUri = 'META-INF/signature.p7s'
  const manifest = asicManifestXml(objects, sigUri)
  zip.addBuffer(manifest, 'META-INF/ASiCManifest.xml')
  zip.addBuffer(await signDetached(manifest, o.signer), sigUri)
  zip.end()
  return collect(zip.outputStream as unknown as Readable)
}

export async function encryptTo(certPem: string, plain: Buffer): Promise<Buffer> {
  return collect(Readable.from([plain]).pipe(encryptStream(certPem)))
}

/** An sbd.zip whose `asic.zip` entry is `asic`, deflated (writeSbdZip stores it). */
export async function craftSbdZip(sbdJson: string, asic: Buffer): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  zip.addBuffer(Buffer.from(sbdJson), 'sbd.json')
  zip.addBuffer(asic, 'asic.zip', { compress: true })
  zip.end()
  return collect(zip.outputStream as unknown as Readable)
}

/** `org` on the broker with its own system user (the stand-in takes any certificate in the grant). */
export function brokerAs(brokerUrl: string, org: string, keys: KeyPair): BrokerClient {
  const tokens = tokenSourceFor(
    { orgNumber: org, identity: { ...keys, keyPath: '', certPath: '' } },
    `${brokerUrl}${EXCHANGE_PATH}`,
    systemClock,
  )
  return createBrokerClient({ baseUrl: `${brokerUrl}${BROKER_BASE}`, tokens, timeoutMs: 10_000 })
}

/** Uploads `body` (an sbd.zip, or its sbd.json and the CMS, if any) from `from` to `to`; resolves with the transfer's id. */
export async function uploadAs(
  broker: BrokerClient,
  from: string,
  to: string,
  body: Buffer | { sbdJson: string; cms: Buffer | null },
): Promise<string> {
  const id = await broker.initialize({
    fileName: 'sbd.zip',
    resourceId: RESOURCE,
    sendersFileTransferReference: randomUUID(),
    sender: `0192:${from}`,
    recipients: [`0192:${to}`],
    propertyList: {},
    checksum: null,
    disableVirusScan: null,
  })
  const cms = Buffer.isBuffer(body) ? null : body.cms
  const zip = Buffer.isBuffer(body)
    ? Readable.from([body])
    : writeSbdZip(body.sbdJson, cms ? () => Readable.from([cms]) : null)
  await broker.upload(id, zip)
  return id
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of stream) parts.push(c as Buffer)
  return Buffer.concat(parts)
}
