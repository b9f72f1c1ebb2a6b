// Packing an outgoing message's files as DPO and DPE send them: a signed ASiC-E (CAdES, eFormidling's
// manifest) encrypted to the receiver's business certificate (CMS EnvelopedData), made as it is read.

import type { Readable } from 'node:stream'
import type { OutFileRow } from '../db/schema.js'
import type { PayloadStore } from '../files/payload-store.js'
import { type AsicDocument, type KnownDocument, writeAsic } from '../packaging/asic.js'
import { encryptStream, type KeyEncryption } from '../packaging/cms.js'
import { documentNamesProblem } from '../packaging/document-names.js'
import type { BusinessKeys } from '../packaging/keys.js'
import type { Clock } from '../util/time.js'
import { ChannelSendError, requireStoredFiles } from './send-error.js'

/**
 * Checked before anything is sent. A name the container cannot hold fails every attempt alike: a
 * failure for good. A stored file that is missing is retried: it may be back after a storage hiccup
 * or a restore, and an operator can then retry the send at once from its web page.
 */
export async function checkPackable(payloads: PayloadStore, files: readonly OutFileRow[]): Promise<void> {
  const unpackable = documentNamesProblem(files.map((f) => f.filename))
  if (unpackable) throw new ChannelSendError(`the message cannot be packed: ${unpackable}`, false)
  await requireStoredFiles(payloads, files, 'is missing (ENOENT)')
}

export interface EncryptedAsicOptions {
  payloads: PayloadStore
  keys: BusinessKeys
  clock: Clock
  files: readonly OutFileRow[]
  /** `0192:<orgnr>` of both parties, as the ASiC-E's manifest names them */
  sender: string
  receiver: string
  /** the receiver's business certificate (PEM) */
  certPem: string
  /** RSA-OAEP SHA-256 unless told (DPE: PKCS#1 v1.5, as the reference) */
  keyEncryption?: KeyEncryption
}

/** The ASiC-E of `files`, signed with our business key and encrypted to `certPem`, as a stream. */
export function encryptedAsic(o: EncryptedAsicOptions): Readable {
  const documents: AsicDocument[] = o.files.map((f) => ({
    filename: f.filename,
    mimeType: f.mime_type,
    title: f.title,
    primary: f.primary_document === 1,
    open: () => o.payloads.read(f.storage_key),
    known: knownDocument(f),
  }))
  const asic = writeAsic({
    sender: o.sender,
    receiver: o.receiver,
    documents,
    signer: o.keys,
    now: () => o.clock.now(),
  })
  const cms = encryptStream(
    o.certPem,
    o.keyEncryption === undefined ? {} : { keyEncryption: o.keyEncryption },
  )
  asic.on('error', (err) => cms.destroy(err))
  return asic.pipe(cms)
}

/** what the upload counted of a file (upload.ts); undefined for a file stored without its CRC-32 */
function knownDocument(f: OutFileRow): KnownDocument | undefined {
  if (f.crc32 === null || !/^[0-9a-f]{64}$/.test(f.sha256)) return undefined
  return { size: f.size, crc32: f.crc32, sha256: Buffer.from(f.sha256, 'hex') }
}
