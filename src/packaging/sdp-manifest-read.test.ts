import { describe, expect, it } from 'vitest'
import { parseSdpManifest, SdpManifestError } from './sdp-manifest-read.js'

const NS = 'http://begrep.difi.no/sdp/schema_v10'
// the shape the reference writes, one line
const EXAMPLE =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
  `<manifest xmlns="${NS}"><mottaker><person><postkasseadresse>ola.nordmann#1ABC</postkasseadresse></person></mottaker>` +
  '<avsender><organisasjon authority="iso6523-actorid-upis">0192:910077473</organisasjon><avsenderidentifikator>A &amp; B</avsenderidentifikator></avsender>' +
  '<hoveddokument href="vedtak.pdf" mime="application/pdf"><tittel lang="NO">Vedtak</tittel><data href="vedtak-lenke.xml" mime="application/vnd.difi.dpi.lenke+xml"/></hoveddokument>' +
  '<vedlegg href="info.html" mime="text/html"><tittel lang="NO">Informasjon</tittel></vedlegg></manifest>'

const parse = (xml: string) => parseSdpManifest(Buffer.from(xml))

describe('parseSdpManifest', () => {
  it('reads the manifest as the reference writes it', () => {
    expect(parse(EXAMPLE)).toEqual({
      postkasseadresse: 'ola.nordmann#1ABC',
      personidentifikator: null,
      avsender: '0192:910077473',
      avsenderidentifikator: 'A & B',
      fakturaReferanse: null,
      hoveddokument: {
        href: 'vedtak.pdf',
        mime: 'application/pdf',
        title: 'Vedtak',
        lang: 'NO',
        data: { href: 'vedtak-lenke.xml', mime: 'application/vnd.difi.dpi.lenke+xml' },
      },
      vedlegg: [{ href: 'info.html', mime: 'text/html', title: 'Informasjon', lang: 'NO', data: null }],
    })
  })

  it('reads a print manifest (no mottaker) with a prefix and a fakturaReferanse', () => {
    const xml =
      `<sdp:manifest xmlns:sdp="${NS}"><sdp:avsender><sdp:organisasjon>0192:910075918</sdp:organisasjon>` +
      '<sdp:fakturaReferanse>F-1</sdp:fakturaReferanse></sdp:avsender>' +
      '<sdp:hoveddokument href="brev.pdf" mime="application/pdf"/></sdp:manifest>'
    const m = parse(xml)
    expect([m.postkasseadresse, m.avsender, m.fakturaReferanse, m.hoveddokument.title, m.vedlegg]).toEqual([
      null,
      '0192:910075918',
      'F-1',
      null,
      [],
    ])
  })

  it.each([
    ['another namespace', EXAMPLE.replace(NS, 'urn:other'), /not an SDP manifest/],
    ['no namespace', EXAMPLE.replace(` xmlns="${NS}"`, ''), /not an SDP manifest/],
    ['a DOCTYPE', EXAMPLE.replace('<manifest', '<!DOCTYPE manifest [<!ENTITY x "y">]><manifest'), /DOCTYPE/],
    ['an undefined entity', EXAMPLE.replace('A &amp; B', '&x;'), /not defined/],
    ['a missing avsender', EXAMPLE.replace(/<avsender>.*<\/avsender>/, ''), /has no avsender/],
    ['a sender that is not ISO 6523', EXAMPLE.replace('0192:910077473', '910077473'), /not an ISO 6523/],
    ['another authority', EXAMPLE.replace('iso6523-actorid-upis', 'x'), /authority/],
    ['a short href', EXAMPLE.replace('href="info.html"', 'href="a.b"'), /href of 4 to 100/],
    ['a missing mime', EXAMPLE.replace(' mime="text/html"', ''), /mime of 1 to 100/],
    [
      'a title without lang',
      EXAMPLE.replace('<tittel lang="NO">Vedtak', '<tittel>Vedtak'),
      /lang of exactly 2/,
    ],
    [
      'elements out of order',
      EXAMPLE.replace(/(<mottaker>.*<\/mottaker>)(<avsender>.*<\/avsender>)/, '$2$1'),
      /does not allow/,
    ],
    ['an unknown element', EXAMPLE.replace('</manifest>', '<extra/></manifest>'), /does not allow/],
    [
      'a foreign element',
      EXAMPLE.replace('</manifest>', '<x:lenke xmlns:x="urn:x"/></manifest>'),
      /not an SDP element/,
    ],
    ['two hoveddokument', EXAMPLE.replace(/(<hoveddokument.*<\/hoveddokument>)/, '$1$1'), /at most 1/],
    [
      'a bad fødselsnummer',
      EXAMPLE.replace('<person>', '<person><personidentifikator>123</personidentifikator>'),
      /11 digits/,
    ],
    ['not XML', 'manifest', /not well-formed/],
    ['a mismatched end tag', EXAMPLE.replace('</avsender>', '</mottaker>'), /not well-formed/],
  ])('refuses %s', (_what, xml, reason) => {
    expect(() => parse(xml)).toThrow(SdpManifestError)
    expect(() => parse(xml)).toThrow(reason)
  })

  it('refuses more than 200 vedlegg', () => {
    const v = '<vedlegg href="v.pdf" mime="application/pdf"/>'.repeat(201)
    expect(() => parse(EXAMPLE.replace('</manifest>', `${v}</manifest>`))).toThrow(/at most 200/)
  })
})
