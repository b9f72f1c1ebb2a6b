import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { AsicWriteError } from './asic.js'
import { parseSdpManifest, type SdpDocument, type SdpManifest, sdpManifestXml } from './sdp-manifest.js'
import { makeTempDir } from './test-support.js'

const manifest: SdpManifest = {
  postkasseadresse: 'ola.nordmann#1ABC',
  avsender: '0192:910077473',
  avsenderidentifikator: 'A',
  language: 'NO',
}
const docs: SdpDocument[] = [
  { filename: 'info.html', mimeType: 'text/html', title: 'Informasjon', primary: false },
  {
    filename: 'vedtak.pdf',
    mimeType: 'application/pdf',
    title: 'Vedtak',
    primary: true,
    metadata: { filename: 'vedtak-lenke.xml', mimeType: 'application/vnd.difi.dpi.lenke+xml' },
  },
]

describe('sdpManifestXml', () => {
  it('writes the manifest as the reference does, the primary document as hoveddokument', () => {
    expect(sdpManifestXml(manifest, docs).toString()).toBe(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
        '<manifest xmlns="http://begrep.difi.no/sdp/schema_v10"><mottaker><person><postkasseadresse>ola.nordmann#1ABC</postkasseadresse></person></mottaker>' +
        '<avsender><organisasjon authority="iso6523-actorid-upis">0192:910077473</organisasjon><avsenderidentifikator>A</avsenderidentifikator></avsender>' +
        '<hoveddokument href="vedtak.pdf" mime="application/pdf"><tittel lang="NO">Vedtak</tittel><data href="vedtak-lenke.xml" mime="application/vnd.difi.dpi.lenke+xml"/></hoveddokument>' +
        '<vedlegg href="info.html" mime="text/html"><tittel lang="NO">Informasjon</tittel></vedlegg></manifest>\n',
    )
  })

  it('round-trips through parseSdpManifest, print without a recipient', () => {
    const m = {
      ...manifest,
      postkasseadresse: null,
      fakturaReferanse: 'F-1',
      avsenderidentifikator: null,
    }
    const odd: SdpDocument = {
      filename: 'r&d "1" <ø>.txt',
      mimeType: 'text/plain',
      title: 'R&D <1> "ø"',
      primary: false,
      metadata: { filename: 'bevis.xml', mimeType: 'application/vnd.difi.dpi.bevis+xml' },
    }
    const parsed = parseSdpManifest(sdpManifestXml(m, [...docs, odd]))
    expect(parsed).toMatchObject({
      postkasseadresse: null,
      avsender: '0192:910077473',
      avsenderidentifikator: null,
      fakturaReferanse: 'F-1',
      hoveddokument: {
        href: 'vedtak.pdf',
        mime: 'application/pdf',
        title: 'Vedtak',
        data: { href: 'vedtak-lenke.xml', mime: 'application/vnd.difi.dpi.lenke+xml' },
      },
    })
    expect(parsed.vedlegg).toMatchObject([
      { href: 'info.html', mime: 'text/html', title: 'Informasjon', data: null },
      { href: odd.filename, mime: 'text/plain', title: odd.title, data: { href: 'bevis.xml' } },
    ])
  })

  it('titles a document without one by its file name without the extension', () => {
    const untitled = docs.map((d) => ({ ...d, title: null }))
    const parsed = parseSdpManifest(
      sdpManifestXml(manifest, [...untitled, { ...untitled[0]!, filename: '.env', title: '' }]),
    )
    expect(parsed.hoveddokument.title).toBe('vedtak')
    expect(parsed.vedlegg.map((v) => v.title)).toEqual(['info', '.env'])
  })

  it('refuses for good what the XSD refuses', () => {
    const refuse = (m: SdpManifest, d: SdpDocument[], message: RegExp) => {
      expect(() => sdpManifestXml(m, d)).toThrow(AsicWriteError)
      expect(() => sdpManifestXml(m, d)).toThrow(message)
    }
    const primary = docs[1]!
    refuse(manifest, [docs[0]!], /exactly one primary document, not 0/)
    refuse(manifest, [primary, { ...primary, filename: 'b.pdf' }], /not 2/)
    refuse(manifest, [{ ...primary, filename: 'a.b' }], /has 3 characters; the SDP manifest takes 4 to 100/)
    refuse(manifest, [{ ...primary, filename: `${'ø'.repeat(97)}.pdf` }], /has 101 characters/)
    expect(() => sdpManifestXml(manifest, [{ ...primary, filename: `${'ø'.repeat(96)}.pdf` }])).not.toThrow()
    refuse(manifest, [{ ...primary, metadata: { filename: 'x.x', mimeType: 'a/b' } }], /has 3 characters/)
    refuse(manifest, [{ ...primary, mimeType: 'x'.repeat(101) }], /the mime type/)
    refuse(manifest, [{ ...primary, title: 't'.repeat(256) }], /the title .* has 256 characters/)
    refuse({ ...manifest, avsender: '910077473' }, [primary], /not an ISO 6523 id/)
    refuse({ ...manifest, language: 'nob' }, [primary], /not two letters/)
    refuse({ ...manifest, fakturaReferanse: 'f'.repeat(41) }, [primary], /fakturaReferanse/)
    refuse({ ...manifest, avsenderidentifikator: 'a'.repeat(101) }, [primary], /avsenderidentifikator/)
    refuse(manifest, [{ ...primary, title: 'bell\u0007' }], /a character XML cannot carry/)
    const many = Array.from({ length: 201 }, (_, i) => ({ ...docs[0]!, filename: `v${i}.html` }))
    refuse(manifest, [primary, ...many], /at most 200 attachments, not 201/)
  })
})

// The reference's sdp-manifest.xsd, when a copy of it is at hand (it imports sdp-felles.xsd beside it)
const XSD = '../shared/reference/data/xsd/sdp-manifest.xsd'
const xmllint = spawnSync('xmllint', ['--version']).error === undefined
describe.skipIf(!existsSync(XSD) || !xmllint)('sdpManifestXml against sdp-manifest.xsd', () => {
  const tmp = makeTempDir('sdp-xsd-')
  afterAll(() => tmp.cleanup())
  it('is valid, digital and print', () => {
    for (const m of [manifest, { ...manifest, postkasseadresse: null }]) {
      const path = join(tmp.dir, 'manifest.xml')
      writeFileSync(path, sdpManifestXml(m, docs))
      const r = spawnSync('xmllint', ['--noout', '--schema', XSD, path])
      expect(r.status, r.stderr.toString()).toBe(0)
    }
  })
})
