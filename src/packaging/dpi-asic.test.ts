import { spawnSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AsicWriteError } from './asic.js'
import {
  type DpiAsicDocument,
  type DpiMetadataFile,
  type WriteDpiAsicOptions,
  writeDpiAsic,
} from './dpi-asic.js'
import { parseSdpManifest } from './sdp-manifest.js'
import { makeIdentity, makeTempDir, opensslAvailable, type TestIdentity } from './test-support.js'
import { verifyXadesSignatures } from './xades.js'

const tools = ['xmlsec1', 'unzip'].every((t) => spawnSync(t, ['-v']).error === undefined)

const doc = (filename: string, content: string, more: Partial<DpiAsicDocument> = {}): DpiAsicDocument => ({
  filename,
  mimeType: 'application/pdf',
  title: null,
  primary: false,
  open: () => Readable.from([Buffer.from(content)]),
  ...more,
})

const lenke: DpiMetadataFile = {
  filename: 'vedtak-lenke.xml',
  mimeType: 'application/vnd.difi.dpi.lenke+xml',
  open: () => Readable.from([Buffer.from('<lenke/>')]),
}
const bevis: DpiMetadataFile = {
  filename: 'bevis.xml',
  mimeType: 'application/vnd.difi.dpi.bevis+xml',
  open: () => Readable.from([Buffer.from('<bevis/>')]),
}

describe.skipIf(!tools || !opensslAvailable())('writeDpiAsic', () => {
  const tmp = makeTempDir('dpi-asic-')
  let org: TestIdentity
  let n = 0
  const options = (more: Partial<WriteDpiAsicOptions> = {}): WriteDpiAsicOptions => ({
    manifest: { postkasseadresse: 'ola.digital#1A2B', avsender: '0192:910077473', language: 'NO' },
    documents: [
      doc('info sheet ø.html', '<p>info</p>', { mimeType: 'text/html', metadata: bevis, title: 'Info' }),
      doc('vedtak.pdf', '%PDF-1.4 vedtak', { primary: true, title: 'Vedtak', metadata: lenke }),
      doc('vedlegg.pdf', '%PDF-1.4 vedlegg'),
    ],
    metadataFiles: [bevis, lenke],
    signer: { keyPem: org.keyPem, certPem: org.certPem },
    now: () => new Date('2026-08-20T08:15:30.118Z'),
    ...more,
  })

  /** Writes the package to a zip and unpacks it with unzip into a fresh directory. */
  async function unpacked(o: WriteDpiAsicOptions): Promise<{ zip: string; dir: string }> {
    const dir = join(tmp.dir, `p${++n}`)
    mkdirSync(dir)
    const zip = join(tmp.dir, `p${n}.asice`)
    await pipeline(writeDpiAsic(o), createWriteStream(zip))
    const r = spawnSync('unzip', ['-q', zip, '-d', dir])
    expect(r.status, r.stderr.toString()).toBe(0)
    return { zip, dir }
  }

  /** xmlsec1 from the unpacked root, where the relative Reference URIs resolve. */
  const xmlsec = (dir: string) => {
    const r = spawnSync(
      'xmlsec1',
      [
        '--verify',
        '--trusted-pem',
        org.certPath,
        '--id-attr:Id',
        'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
        'META-INF/signatures.xml',
      ],
      { cwd: dir },
    )
    return { status: r.status, out: r.stdout.toString() + r.stderr.toString() }
  }

  beforeAll(() => {
    org = makeIdentity(tmp.dir, 'org')
  })
  afterAll(() => tmp.cleanup())

  it('lays out mimetype (stored, first), manifest.xml, the documents primary first, the metadata files, signatures.xml', async () => {
    const { zip } = await unpacked(options())
    const list = spawnSync('unzip', ['-Zv', zip]).stdout.toString()
    const names = spawnSync('unzip', ['-Z1', zip]).stdout.toString().trim().split('\n')
    expect(names).toEqual([
      'mimetype',
      'manifest.xml',
      'vedtak.pdf',
      'info sheet ø.html',
      'vedlegg.pdf',
      'vedtak-lenke.xml',
      'bevis.xml',
      'META-INF/signatures.xml',
    ])
    const mimetype = list.slice(0, list.indexOf('manifest.xml'))
    expect(mimetype).toMatch(/compression method:\s+none \(stored\)/)
    expect(mimetype).toMatch(/file comment begins -+\nmimetype=application\/vnd\.etsi\.asic-e\+zip\n/)
    const bytes = readFileSync(zip)
    // the local header of the first entry: name `mimetype`, no extra field, the type right after it
    expect(bytes.subarray(30, 38).toString()).toBe('mimetype')
    expect(bytes.readUInt16LE(28)).toBe(0)
    expect(bytes.subarray(38, 38 + 31).toString()).toBe('application/vnd.etsi.asic-e+zip')
    expect(list).toContain('zipfile comment')
    expect(spawnSync('unzip', ['-z', zip]).stdout.toString()).toContain(
      'mimetype=application/vnd.etsi.asic-e+zip',
    )
  })

  it('has a manifest naming every document and metadata file', async () => {
    const { dir } = await unpacked(options())
    const m = parseSdpManifest(readFileSync(join(dir, 'manifest.xml')))
    expect(m.hoveddokument).toMatchObject({
      href: 'vedtak.pdf',
      title: 'Vedtak',
      data: { href: 'vedtak-lenke.xml', mime: 'application/vnd.difi.dpi.lenke+xml' },
    })
    expect(m.vedlegg.map((v) => [v.href, v.title, v.data?.href ?? null])).toEqual([
      ['info sheet ø.html', 'Info', 'bevis.xml'],
      ['vedlegg.pdf', 'vedlegg', null],
    ])
  })

  it('is verified by xmlsec1 with a file name holding a space and a non-ASCII letter', async () => {
    const { dir } = await unpacked(options())
    const sig = readFileSync(join(dir, 'META-INF/signatures.xml'), 'utf8')
    expect(sig).toContain('URI="info%20sheet%20%C3%B8.html"')
    const r = xmlsec(dir)
    expect(r.out).toContain('OK')
    expect(r.out).toContain('SignedInfo References (ok/all): 7/7')
    expect(r.status).toBe(0)
  })

  it('fails xmlsec1 when a document or the SigningTime is changed', async () => {
    const { dir } = await unpacked(options())
    expect(xmlsec(dir).status).toBe(0)
    writeFileSync(join(dir, 'info sheet ø.html'), '<p>other</p>')
    expect(xmlsec(dir).status).not.toBe(0)

    const again = await unpacked(options())
    const path = join(again.dir, 'META-INF/signatures.xml')
    const sig = readFileSync(path, 'utf8')
    expect(sig).toContain('<SigningTime>2026-08-20T08:15:30.118Z</SigningTime>')
    writeFileSync(path, sig.replace('08:15:30.118Z', '08:15:31.118Z'))
    const r = xmlsec(again.dir)
    expect(r.status).not.toBe(0)
    expect(r.out).not.toMatch(/^OK/m)
  })

  it('is accepted by verifyXadesSignatures, whose references match the entries, and refused when tampered', async () => {
    const { dir } = await unpacked(options())
    const xml = readFileSync(join(dir, 'META-INF/signatures.xml'))
    const check = verifyXadesSignatures(xml)
    if (!check.ok) throw new Error(check.reason)
    expect(new X509Certificate(check.signerCertPem).fingerprint256).toBe(
      new X509Certificate(org.certPem).fingerprint256,
    )
    const names = [
      'manifest.xml',
      'vedtak.pdf',
      'info sheet ø.html',
      'vedlegg.pdf',
      'vedtak-lenke.xml',
      'bevis.xml',
    ]
    expect(check.references.map((r) => r.uri)).toEqual(names)
    for (const r of check.references)
      expect(r.sha256.toString('hex'), r.uri).toBe(
        createHash('sha256')
          .update(readFileSync(join(dir, r.uri)))
          .digest('hex'),
      )
    expect(check.references.map((r) => r.mimeType)).toEqual([
      'application/xml',
      'application/pdf',
      'text/html',
      'application/pdf',
      'application/vnd.difi.dpi.lenke+xml',
      'application/vnd.difi.dpi.bevis+xml',
    ])
    const tampered = (from: string | RegExp, to: string) => {
      const changed = xml.toString().replace(from, to)
      expect(changed).not.toBe(xml.toString())
      return verifyXadesSignatures(Buffer.from(changed))
    }
    expect(tampered('08:15:30.118Z', '08:15:31.118Z')).toMatchObject({ ok: false })
    expect(tampered('<MimeType>text/html', '<MimeType>text/plain')).toMatchObject({ ok: false })
    expect(tampered(/(<Reference Id="ID_1" URI="vedtak.pdf">.*?<DigestValue>)./, '$1A')).toMatchObject({
      ok: false,
    })
    expect(tampered('URI="vedlegg.pdf"', 'URI="vedlegg2.pdf"')).toMatchObject({ ok: false })
    // a valid signature by someone else, with our certificate put in its place
    const other = makeIdentity(tmp.dir, 'other')
    const foreign = await unpacked(options({ signer: { keyPem: other.keyPem, certPem: other.certPem } }))
    const swapped = readFileSync(join(foreign.dir, 'META-INF/signatures.xml'))
      .toString()
      .replace(
        /<X509Certificate>[^<]+</,
        `<X509Certificate>${new X509Certificate(org.certPem).raw.toString('base64')}<`,
      )
    expect(verifyXadesSignatures(Buffer.from(swapped))).toMatchObject({ ok: false })
  })

  it('prints a print letter: no recipient in the manifest', async () => {
    const o = options()
    const { dir } = await unpacked({ ...o, manifest: { ...o.manifest, postkasseadresse: null } })
    expect(readFileSync(join(dir, 'manifest.xml'), 'utf8')).not.toContain('mottaker')
    expect(xmlsec(dir).status).toBe(0)
  })

  it('refuses for good what cannot be packed', () => {
    const refuse = (more: Partial<WriteDpiAsicOptions>, message: RegExp) => {
      let err: unknown
      try {
        writeDpiAsic(options(more))
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(AsicWriteError)
      expect((err as AsicWriteError).retryable).toBe(false)
      expect((err as Error).message).toMatch(message)
    }
    refuse({ documents: [doc('a.b', 'x', { primary: true })], metadataFiles: [] }, /has 3 characters/)
    refuse({ documents: [doc(`${'x'.repeat(97)}.pdf`, 'x', { primary: true })], metadataFiles: [] }, /101/)
    refuse({ documents: [doc('C:x.pdf', 'x', { primary: true })], metadataFiles: [] }, /drive letter/)
    refuse(
      { documents: [doc('Vedtak.pdf', 'x', { primary: true }), doc('vedtak.PDF', 'y')], metadataFiles: [] },
      /another document has that name/,
    )
    refuse({ documents: [] }, /at least one document/)
    refuse({ metadataFiles: [lenke] }, /"bevis.xml" of info sheet ø.html is missing/)
    refuse(
      { metadataFiles: [bevis, lenke, { ...bevis, filename: 'extra.xml' }] },
      /no document names the metadata file "extra.xml"/,
    )
    refuse({ metadataFiles: [bevis, { ...lenke, mimeType: 'text/plain' }] }, /is text\/plain/)
    refuse(
      {
        documents: [
          doc('vedtak.pdf', 'x', { primary: true, metadata: { ...lenke, filename: 'vedtak.pdf' } }),
        ],
        metadataFiles: [{ ...lenke, filename: 'vedtak.pdf' }],
      },
      /another document has that name/,
    )
  })

  it('fails the stream when a document cannot be read', async () => {
    const broken = doc('vedtak.pdf', '', {
      primary: true,
      open: () =>
        new Readable({
          read() {
            this.destroy(new Error('disk gone'))
          },
        }),
    })
    const out = writeDpiAsic(options({ documents: [broken], metadataFiles: [] }))
    await expect(pipeline(out, createWriteStream(join(tmp.dir, 'broken.asice')))).rejects.toThrow('disk gone')
  })
})
