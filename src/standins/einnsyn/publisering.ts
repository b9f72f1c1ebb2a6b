// Reading a publisering as eInnsyn's integration point takes it in: the CMS decrypted with eInnsyn's key,
// the ASiC-E's signature checked and its signer held to the sender's certificate in the ServiceRegistry,
// and the journalpost or møte JSON-LD kept for the sandbox page. Then the receipt eInnsyn sends.

import { X509Certificate } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AsicError, readAsic } from '../../packaging/asic.js'
import { CmsError, decryptStream } from '../../packaging/cms.js'
import type { EinnsynKeys } from './keys.js'

export type ReadPublisering = { ok: true; filename: string; content: string } | { ok: false; reason: string }

/** eInnsyn takes publiseringer of at most 1 MB of JSON-LD; the container is held to a little more */
const MAX_BYTES = 4 * 1024 * 1024
/** the file eInnsyn reads, by process: journal posts or meetings */
const KNOWN_FILES = ['journalpost.json', 'mote.json']

/**
 * The publisering's file, or why it cannot be taken in (refused for good). `senderCert` is asked only
 * once the container reads, null when the registry has none for the sender; whatever it throws (the
 * registry down) is thrown, to be tried again later.
 */
export async function readPublisering(o: {
  cms: Buffer
  keys: EinnsynKeys
  tempDir: string
  senderCert: () => Promise<string | null>
}): Promise<ReadPublisering> {
  const dir = await mkdtemp(join(o.tempDir, 'einnsyn-'))
  try {
    const zip = join(dir, 'asic.zip')
    try {
      await pipeline(
        Readable.from([o.cms]),
        decryptStream(o.keys.keyPem, o.keys.certPem),
        createWriteStream(zip),
      )
    } catch (error) {
      if (error instanceof CmsError)
        return { ok: false, reason: `cannot decrypt the ASiC-E: ${error.message}` }
      throw error
    }
    let read: Awaited<ReturnType<typeof readAsic>>
    try {
      read = await readAsic(zip, {
        maxEntries: 50,
        maxEntryBytes: MAX_BYTES,
        maxTotalBytes: MAX_BYTES,
        maxRatio: 100,
        tempDir: dir,
      })
    } catch (error) {
      if (error instanceof AsicError) return { ok: false, reason: `the ASiC-E is refused: ${error.message}` }
      throw error
    }
    if (!read.signatureValid)
      return {
        ok: false,
        reason: `the ASiC-E's signature does not hold: ${read.signatureError ?? 'invalid'}`,
      }
    const expected = await o.senderCert()
    if (expected === null)
      return { ok: false, reason: 'the ServiceRegistry has no certificate for the sender' }
    const fingerprint = new X509Certificate(expected).fingerprint256
    if (!read.signerCertPem || new X509Certificate(read.signerCertPem).fingerprint256 !== fingerprint)
      return {
        ok: false,
        reason: "the ASiC-E is not signed with the sender's certificate in the ServiceRegistry",
      }
    const file =
      read.files.find((f) => KNOWN_FILES.includes(f.filename)) ??
      read.files.find((f) => f.filename === read.manifest?.hoveddokument?.href) ??
      read.files[0]
    if (!file) return { ok: false, reason: 'the ASiC-E holds no file' }
    return { ok: true, filename: file.filename, content: await readFile(file.path, 'utf8') }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * The `status` of the einnsyn_kvittering, a JSON object as text: published, with the document's id,
 * when the file is JSON; else a validation report, as eInnsyn answers a file it cannot read.
 */
export function kvitteringStatus(
  content: string,
  fallbackId: string,
  now: Date,
): { dokumentId: string; status: string } {
  let json: unknown
  try {
    json = JSON.parse(content)
  } catch (error) {
    return {
      dokumentId: fallbackId,
      status: JSON.stringify({
        publisert: false,
        dokumentId: fallbackId,
        alvorlighetsgrad: 'FEIL',
        valideringsfeil: [{ melding: `the file is not JSON-LD: ${(error as Error).message}` }],
      }),
    }
  }
  const obj = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {}
  const id = [obj['@id'], obj.id].find((v): v is string => typeof v === 'string' && v !== '') ?? fallbackId
  return {
    dokumentId: id,
    status: JSON.stringify({ publisert: true, publisertDatotid: now.toISOString(), dokumentId: id }),
  }
}
