// openPackage on packages built here with independent tools: yazl for the zip, xmlsec1 for the XAdES
// signature, `openssl cms -encrypt` for the envelope (OAEP with SHA-256 as the reference, and OAEP's
// SHA-1 defaults as the DPI documentation): not with our own writer.

import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import {
  makeIdentity,
  makeTempDir,
  openssl,
  opensslAvailable,
  type TestIdentity,
} from '../../packaging/test-support.js'
import { xadesTemplate, xmlsecAvailable, xmlsecSign } from '../../packaging/xades-test-support.js'
import { openPackage } from './mailbox.js'

const NS = 'http://begrep.difi.no/sdp/schema_v10'
const MIMETYPE = 'application/vnd.etsi.asic-e+zip'
const AVSENDER = '0192:910075918'
const ADDRESS = 'ola.digital#1A2B'

interface Doc {
  name: string
  body: Buffer | string
  mime: string
}

interface Build {
  docs?: Doc[]
  /** manifest.xml's text (default: names the docs, first as hoveddokument) */
  manifest?: string
  /** entries the signature does not cover */
  unsigned?: Doc[]
  /** names the signature covers that are then left out of the zip */
  leaveOut?: string[]
  /** a document's bytes in the zip, changed after signing */
  swap?: Record<string, string>
  /** mime types in the signature, where they differ from the docs' */
  signedMime?: Record<string, string>
  mimetype?: 'first' | 'compressed' | 'second'
  /** sign or encrypt with the stranger's certificate instead of the sender's or provider's */
  signer?: 'stranger'
  oaep?: 'sha256' | 'sha1'
  recipient?: 'stranger'
}

const DEFAULT_DOCS: Doc[] = [
  { name: 'vedtak.pdf', body: '%PDF-1.4 vedtak', mime: 'application/pdf' },
  { name: 'vedlegg ø.txt', body: 'vedlegg', mime: 'text/plain' },
]

function manifestXml(docs: Doc[], o: { avsender?: string; address?: string | null } = {}): string {
  const doc = (tag: string, d: Doc) =>
    `<${tag} href="${d.name}" mime="${d.mime}"><tittel lang="NO">Title of ${d.name}</tittel></${tag}>`
  const address = o.address === undefined ? ADDRESS : o.address
  return (
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><manifest xmlns="${NS}">` +
    (address === null
      ? ''
      : `<mottaker><person><postkasseadresse>${address}</postkasseadresse></person></mottaker>`) +
    `<avsender><organisasjon authority="iso6523-actorid-upis">${o.avsender ?? AVSENDER}</organisasjon></avsender>` +
    doc('hoveddokument', docs[0]!) +
    docs
      .slice(1)
      .map((d) => doc('vedlegg', d))
      .join('') +
    '</manifest>'
  )
}

/** Java URLEncoder's form, as the reference writes Reference URIs */
const urlEncode = (name: string): string => encodeURIComponent(name).replace(/%20/g, '+')

describe.skipIf(!xmlsecAvailable() || !opensslAvailable())('openPackage', () => {
  const tmp = makeTempDir('dpi-mailbox-')
  let provider: TestIdentity
  let sender: TestIdentity
  let stranger: TestIdentity
  let n = 0

  beforeAll(() => {
    provider = makeIdentity(tmp.dir, 'provider')
    sender = makeIdentity(tmp.dir, 'sender')
    stranger = makeIdentity(tmp.dir, 'stranger')
  })
  afterAll(() => tmp.cleanup())

  async function build(o: Build = {}): Promise<string> {
    const dir = join(tmp.dir, `pkg-${++n}`)
    mkdirSync(dir)
    const docs = o.docs ?? DEFAULT_DOCS
    const signed: Doc[] = [
      { name: 'manifest.xml', body: o.manifest ?? manifestXml(docs), mime: 'application/xml' },
      ...docs,
    ]
    for (const d of signed) writeFileSync(join(dir, d.name), d.body)
    const signer = o.signer ? stranger : sender
    const template = xadesTemplate({
      files: signed.map((d) => ({ uri: urlEncode(d.name), mime: o.signedMime?.[d.name] ?? d.mime })),
      certPem: signer.certPem,
    })
    // xmlsec1 does not read `+` as a space; its --url-map keys are matched with %XX unescaped
    const urlMap = Object.fromEntries(signed.map((d) => [decodeURIComponent(urlEncode(d.name)), d.name]))
    const signature = xmlsecSign(dir, template, signer.keyPath, signer.certPath, urlMap)
    const zip = new yazl.ZipFile()
    const mimetype = () =>
      zip.addBuffer(Buffer.from(MIMETYPE), 'mimetype', { compress: o.mimetype === 'compressed' })
    if (o.mimetype !== 'second') mimetype()
    for (const d of [...signed, ...(o.unsigned ?? [])]) {
      if (o.leaveOut?.includes(d.name)) continue
      zip.addBuffer(Buffer.from(o.swap?.[d.name] ?? d.body), d.name)
      if (o.mimetype === 'second' && d.name === 'manifest.xml') mimetype()
    }
    zip.addBuffer(signature, 'META-INF/signatures.xml')
    zip.end()
    return encrypt(dir, zip, o)
  }

  async function encrypt(dir: string, zip: yazl.ZipFile, o: Build): Promise<string> {
    const zipPath = join(dir, 'container.zip')
    await pipeline(zip.outputStream, createWriteStream(zipPath))
    const cmsPath = join(dir, 'package.cms')
    const oaep = [
      '-keyopt',
      'rsa_padding_mode:oaep',
      ...(o.oaep === 'sha1' ? [] : ['-keyopt', 'rsa_oaep_md:sha256']),
    ]
    const recip = (o.recipient ? stranger : provider).certPath
    openssl([
      'cms',
      '-encrypt',
      '-binary',
      '-aes256',
      '-in',
      zipPath,
      '-outform',
      'DER',
      '-out',
      cmsPath,
      '-recip',
      recip,
      ...oaep,
    ])
    return cmsPath
  }

  const open = (
    cmsPath: string,
    o: { avsender?: string; address?: string | null; type?: 'digital' | 'utskrift'; maxBytes?: number } = {},
  ) =>
    openPackage({
      cmsPath,
      providerKeyPem: provider.keyPem,
      providerCertPem: provider.certPem,
      businessMessage: {
        type: o.type ?? 'digital',
        avsender: o.avsender ?? AVSENDER,
        postkasseadresse: o.address === undefined ? ADDRESS : o.address,
      },
      senderCertPem: sender.certPem,
      workDir: join(tmp.dir, `work-${++n}`),
      ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}),
    })

  const reason = async (p: ReturnType<typeof open>): Promise<string> => {
    const r = await p
    if (r.ok) throw new Error('expected a refusal')
    return r.reason
  }

  it('opens a digital package (OAEP SHA-256) and writes its documents under safe names', async () => {
    const r = await open(await build())
    if (!r.ok) throw new Error(r.reason)
    expect(r.manifest.postkasseadresse).toBe(ADDRESS)
    expect(r.documents.map(({ href, mime, title, size }) => ({ href, mime, title, size }))).toEqual([
      { href: 'vedtak.pdf', mime: 'application/pdf', title: 'Title of vedtak.pdf', size: 15 },
      { href: 'vedlegg ø.txt', mime: 'text/plain', title: 'Title of vedlegg ø.txt', size: 7 },
    ])
    expect(r.documents.map((d) => d.path.split('/').pop())).toEqual(['0-vedtak.pdf', '1-vedlegg_ø.txt'])
    expect(readFileSync(r.documents[0]!.path, 'utf8')).toBe('%PDF-1.4 vedtak')
    // nothing but the documents is left in the letter's folder
    expect(readdirSync(join(r.documents[0]!.path, '..')).sort()).toEqual(['0-vedtak.pdf', '1-vedlegg_ø.txt'])
  })

  it('opens a print package encrypted with OAEP SHA-1', async () => {
    const cms = await build({ manifest: manifestXml(DEFAULT_DOCS, { address: null }), oaep: 'sha1' })
    const r = await open(cms, { type: 'utskrift', address: null })
    expect(r.ok ? r.documents.length : r.reason).toBe(2)
  })

  it('takes an attachment metadata file the manifest names but the container lacks (the reference does that)', async () => {
    const manifest = manifestXml(DEFAULT_DOCS).replace(
      '</tittel></vedlegg>',
      '</tittel><data href="vedlegg-meta.xml" mime="application/vnd.difi.dpi.lenke+xml"/></vedlegg>',
    )
    const r = await open(await build({ manifest }))
    expect(r.ok ? r.documents.map((d) => d.href) : r.reason).toEqual(['vedtak.pdf', 'vedlegg ø.txt'])
  })

  it.each<[string, Build, Parameters<typeof open>[1], RegExp]>([
    [
      'encrypted to another key',
      { recipient: 'stranger' },
      {},
      /cannot be decrypted with the provider's key/,
    ],
    [
      'a document the manifest names left out',
      { leaveOut: ['vedlegg ø.txt'] },
      {},
      /covers vedlegg ø.txt, which is not in the package/,
    ],
    [
      'an entry the signature does not cover',
      { unsigned: [{ name: 'extra.pdf', body: 'x', mime: 'application/pdf' }] },
      {},
      /holds extra.pdf, which the signature does not cover/,
    ],
    [
      'a document changed after signing',
      { swap: { 'vedtak.pdf': '%PDF-1.4 forged' } },
      {},
      /The document vedtak.pdf does not match its signed digest/,
    ],
    [
      'another signer',
      { signer: 'stranger' },
      {},
      /signed by "O=Test, CN=stranger", not with the certificate/,
    ],
    [
      'a signed mime type that differs from the manifest',
      { signedMime: { 'vedtak.pdf': 'text/html' } },
      {},
      /types vedtak.pdf as text\/html, but manifest.xml as application\/pdf/,
    ],
    [
      'a mimetype entry that is compressed',
      { mimetype: 'compressed' },
      {},
      /does not start with the mimetype entry/,
    ],
    [
      'a mimetype entry that is not first',
      { mimetype: 'second' },
      {},
      /does not start with the mimetype entry/,
    ],
    [
      'another sender in the manifest',
      { manifest: manifestXml(DEFAULT_DOCS, { avsender: '0192:910077473' }) },
      {},
      /names the sender 0192:910077473, but the business message 0192:910075918/,
    ],
    [
      'another mailbox in the manifest',
      {},
      { address: 'kari#9Z' },
      /addresses the mailbox ola.digital#1A2B, but the business message kari#9Z/,
    ],
    [
      'a manifest in another namespace',
      { manifest: manifestXml(DEFAULT_DOCS).replace(NS, 'urn:x') },
      {},
      /manifest.xml is refused: .*not an SDP manifest/,
    ],
    [
      'a manifest that does not name a signed file',
      { manifest: manifestXml(DEFAULT_DOCS.slice(0, 1)) },
      {},
      /holds vedlegg ø.txt, which manifest.xml does not name/,
    ],
  ])('refuses a package with %s, and leaves no documents', async (_what, b, o, expected) => {
    const workDirs = () => readdirSync(tmp.dir).filter((f) => f.startsWith('work-'))
    const before = new Set(workDirs())
    expect(await reason(open(await build(b), o))).toMatch(expected)
    const made = workDirs().filter((w) => !before.has(w))
    expect(made).toHaveLength(1)
    expect(readdirSync(join(tmp.dir, made[0]!))).toEqual([])
  })

  it('refuses a zip bomb before inflating it past the bound', async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024)
    const cms = await build({ docs: [{ name: 'bomb.pdf', body: zeros, mime: 'application/pdf' }] })
    expect(await reason(open(cms))).toMatch(/container is refused: bomb.pdf compresses more than 100:1/)
    expect(await reason(open(cms, { maxBytes: 16 * 1024 * 1024 }))).toMatch(
      /refused: .*bomb.pdf is \d+ bytes, more than 16777216/,
    )
  })

  it('refuses a package larger than the bound once decrypted', async () => {
    const cms = await build({
      docs: [{ name: 'big.pdf', body: randomBytes(64 * 1024), mime: 'application/pdf' }],
    })
    expect(await reason(open(cms, { maxBytes: 4096 }))).toMatch(/larger than 4096 bytes once decrypted/)
  })
})
