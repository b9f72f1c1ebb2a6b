import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import yauzl from 'yauzl'
import { encryptStream } from '../../packaging/cms.js'
import { makeIdentity, openssl, type TestIdentity } from '../../packaging/test-support.js'
import { type SvarUtOptions, type SvarUtStandIn, startSvarUt } from './server.js'
import { SANDBOX_PASSWORD, sandboxIntegrasjonId, sandboxKontoId } from './settings.js'

export { capturingLogger } from '../../../test/support/logging.js'

/** Test helpers for the SvarUt stand-in (not part of the build). */

export const ORG_A = '910075918'
export const ORG_B = '910077473'
export const KOMMUNE = '910229028'
export const KONTO_A = sandboxKontoId(ORG_A)
export const KONTO_B = sandboxKontoId(ORG_B)

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'svarut-standin-'))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned Maskinporten-style token (the stand-in decodes, never verifies). */
export const maskinportenToken = (claims: Record<string, unknown>) =>
  `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`

export const fiksToken = (org: string, scope = 'ks:fiks') =>
  maskinportenToken({ consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${org}` }, scope })

/** The three headers SvarUt wants from `org`'s sandbox integration. */
export const fiksHeaders = (org: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${fiksToken(org)}`,
  integrasjonid: sandboxIntegrasjonId(org),
  integrasjonpassord: SANDBOX_PASSWORD,
  ...extra,
})

export const basic = (user: string, password = SANDBOX_PASSWORD) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

export interface Part {
  name: string
  filename?: string
  type?: string
  body: Buffer | string
}

/** A multipart/form-data body, written by hand so a test controls every header. */
export function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const boundary = `----svarut${randomUUID()}`
  const chunks: Buffer[] = []
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`
    chunks.push(Buffer.from(head), Buffer.from(p.body), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` }
}

export const encryptTo = (certPem: string, bytes: Buffer) =>
  buffer(Readable.from([bytes]).pipe(encryptStream(certPem)))

/** An organisation forsendelse as the reference IP's mapping makes one, explicit nulls included. */
export function forsendelse(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mottaker: {
      navn: 'Testkommune',
      digitalId: KOMMUNE,
      adresse: { adresselinje1: 'Postboks 1', postnummer: '0151', poststed: 'OSLO' },
    },
    tittel: 'Vedtak i sak 2026/12',
    konteringskode: null,
    kunDigitalLevering: false,
    kryptert: true,
    utskriftskonfigurasjon: { tosidig: true },
    sikkerhetsniva: 'BETYDELIG',
    metadataFraAvleverendeSystem: {
      saksaar: 2026,
      sakssekvensnummer: 12,
      journalaar: 2026,
      journalsekvensnummer: 345,
      journalpostnummer: 3,
      journalposttype: 'U',
      journalstatus: 'E',
      journaldato: '2026-08-20T00:00:00+02:00',
      dokumentetsDato: '2026-08-20T00:00:00+02:00',
      tittel: 'Vedtak i sak 2026/12',
      saksbehandler: 'Kari Nordmann',
      ekstraMetadata: [],
    },
    svarSendesTil: {
      navn: 'Sandkasse A',
      type: 'ORGANISASJON',
      digitalId: ORG_A,
      adresse: { adresselinje1: 'Portveien 2', postnummer: '0468', poststed: 'OSLO' },
    },
    svarPaForsendelseId: null,
    dokumenter: [{ filnavn: 'vedtak.pdf', mimeType: 'application/pdf', skalEkskluderesFraUtskrift: false }],
    forsendelsestype: null,
    eksternReferanse: randomUUID(),
    kanSvareViaEdialog: false,
    taushetsbelagtPost: false,
    ...extra,
  }
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Reads every entry of a zip held in memory (tests only: small zips). */
export async function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (e, z) => (e ? rej(e) : res(z!))),
  )
  const out = new Map<string, Buffer>()
  await new Promise<void>((res, rej) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, async (e, s) => {
        if (e) return rej(e)
        out.set(entry.fileName, await buffer(s!))
        zip.readEntry()
      })
    })
    zip.on('end', () => res())
    zip.on('error', rej)
    zip.readEntry()
  })
  return out
}

/** Decrypts a CMS message with the openssl binary, as an independent check of what the stand-in wrote. */
export function opensslDecrypt(dir: string, who: TestIdentity, cms: Buffer): Buffer {
  const file = join(dir, `${randomUUID()}.cms`)
  writeFileSync(file, cms)
  return openssl([
    'cms',
    '-decrypt',
    '-binary',
    '-inform',
    'DER',
    '-in',
    file,
    '-inkey',
    who.keyPath,
    '-recip',
    who.certPath,
  ])
}

let made: { a: TestIdentity; b: TestIdentity } | undefined

/** Receiver identities for A and B made by openssl, once per test file (RSA key generation is slow). */
function identities(): { a: TestIdentity; b: TestIdentity } {
  if (made) return made
  const dir = tempDir()
  process.once('exit', () => dir.remove())
  made = { a: makeIdentity(dir.path, ORG_A), b: makeIdentity(dir.path, ORG_B) }
  return made
}

/** A running stand-in in a temp dir, with receiver identities for A and B. */
export async function harness(opts: Partial<SvarUtOptions> = {}) {
  const dir = tempDir()
  const idDir = tempDir()
  const { a, b } = identities()
  const { capturingLogger } = await import('../../../test/support/logging.js')
  const log = capturingLogger()
  const options = (): SvarUtOptions => ({
    port: 0,
    dataDir: dir.path,
    logger: log.logger,
    ...opts,
    settings: {
      mottakersystemer: [
        { username: ORG_A, password: SANDBOX_PASSWORD, orgnr: ORG_A, certificatePem: a.certPem },
        { username: ORG_B, password: SANDBOX_PASSWORD, orgnr: ORG_B, certificatePem: b.certPem },
      ],
      ...opts.settings,
    },
  })
  let svarut: SvarUtStandIn = await startSvarUt(options())
  const h = {
    get svarut() {
      return svarut
    },
    dir: dir.path,
    idDir: idDir.path,
    a,
    b,
    log,
    async restart() {
      await svarut.close()
      svarut = await startSvarUt({ ...options(), port: Number(new URL(svarut.url).port) })
    },
    call: (path: string, init: RequestInit = {}) => fetch(`${svarut.url}${path}`, init),
    /** sends a forsendelse from `org`'s konto; `files` are plaintext, encrypted to SvarUt unless `plain` */
    async send(
      f: Record<string, unknown>,
      files: { name: string; bytes: Buffer; type?: string }[],
      o: { org?: string; konto?: string; headers?: Record<string, string>; plain?: boolean } = {},
    ) {
      const org = o.org ?? ORG_A
      const parts: Part[] = [{ name: 'forsendelse', body: JSON.stringify(f) }]
      for (const [i, file] of files.entries()) {
        const body = o.plain ? file.bytes : await encryptTo(svarut.certificatePem, file.bytes)
        parts.push({ name: `filer_${i}`, filename: file.name, type: file.type ?? 'application/pdf', body })
      }
      const { body, contentType } = multipart(parts)
      return fetch(
        `${svarut.url}/api/v3/kontoer/${o.konto ?? sandboxKontoId(org)}/forsendelser/organisasjon`,
        {
          method: 'POST',
          headers: { ...fiksHeaders(org), 'content-type': contentType, ...o.headers },
          body: new Uint8Array(body),
        },
      )
    },
    async close() {
      await svarut.close()
      dir.remove()
      idDir.remove()
    },
  }
  return h
}
