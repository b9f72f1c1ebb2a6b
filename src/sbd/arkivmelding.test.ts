import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../errors/api-error.js'
import { decodeXml, parseArkivmelding } from './arkivmelding.js'

const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/arkivmelding/${name}`, import.meta.url), 'utf8')

function refused(xml: string): ApiError {
  try {
    parseArkivmelding(xml)
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError)
    return err as ApiError
  }
  throw new Error('expected an error')
}

describe('parseArkivmelding', () => {
  it('reads title, reference and referenced files of the first journalpost of the first saksmappe', () => {
    expect(parseArkivmelding(fixture('ok.xml'))).toEqual({
      title: 'Brøyting & strøing <vinter> 2026',
      reference: 'b7d5e0a2-1c44-4f7e-8a39-5e0f6c2d9b31-42',
      // sorted by dokumentnummer, every dokumentobjekt
      referencedFiles: ['brev.pdf', 'brev-v2.pdf', 'vedlegg.pdf'],
    })
  })

  it('resolves prefixes and xsi:type through the namespaces, not the spelling', () => {
    expect(parseArkivmelding(fixture('prefixed.xml'))).toEqual({
      title: null,
      reference: null,
      referencedFiles: ['a.pdf'],
    })
  })

  it('refuses a document without saksmappe or journalpost with MissingSaksmappe (400)', () => {
    for (const name of ['no-saksmappe.xml', 'no-journalpost.xml']) {
      const e = refused(fixture(name))
      // MessageFormat drops the quotes of the template's 'Saksmappe', as the reference's text does
      expect([e.code, e.status, e.message]).toEqual([
        'MissingSaksmappe',
        400,
        'Arkivmelding does not contain any instances of Saksmappe',
      ])
    }
  })

  it('refuses what is not XML or not an arkivmelding with UnmarshalArkivmelding', () => {
    const bad = [
      fixture('wrong-namespace.xml'),
      'not xml',
      '',
      '<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding"><mappe></arkivmelding>',
      '<a/><b/>',
      '<!DOCTYPE arkivmelding [<!ENTITY x "y">]><arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding">&x;</arkivmelding>',
      '<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding"><system>&nbsp;</system></arkivmelding>',
      '<p:arkivmelding><p:mappe/></p:arkivmelding>',
    ]
    for (const xml of bad) {
      const e = refused(xml)
      expect([e.code, e.status, e.exception]).toEqual([
        'UnmarshalArkivmelding',
        400,
        'no.difi.meldingsutveksling.exceptions.UnmarshalArkivmeldingException',
      ])
    }
  })

  it('accepts a byte order mark and character references', () => {
    const xml = `\uFEFF${fixture('ok.xml').replace('<tittel>Hoveddokument</tittel>', '<tittel>&#x48;oved&#100;okument</tittel>')}`
    expect(parseArkivmelding(xml).referencedFiles).toHaveLength(3)
  })

  // the shared reference samples, when this checkout sits beside them
  const shared = fileURLToPath(new URL('../../../shared/reference/data/samples', import.meta.url))
  it.runIf(existsSync(`${shared}/arkivmelding_ok.xml`))('reads the reference samples', () => {
    const ok = parseArkivmelding(readFileSync(`${shared}/arkivmelding_ok.xml`, 'utf8'))
    expect(ok).toEqual({ title: 'Nye lysrør', reference: null, referencedFiles: ['test.pdf'] })
    // the "error" sample lacks a required title; the reference does not validate against the schema either
    expect(
      parseArkivmelding(readFileSync(`${shared}/arkivmelding_error.xml`, 'utf8')).referencedFiles,
    ).toEqual(['test.pdf'])
  })
})

describe('parseArkivmelding on any input', () => {
  const ok = fixture('ok.xml')
  const outcome = (xml: string) => {
    try {
      parseArkivmelding(xml)
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
    }
  }

  it('answers or refuses with an ApiError, never anything else', () => {
    const options = { seed: 20260115, numRuns: 300 }
    fc.assert(fc.property(fc.string(), outcome), options)
    // cut a piece out of a valid document, or splice text into it
    fc.assert(
      fc.property(fc.nat(ok.length), fc.nat(40), fc.string({ maxLength: 8 }), (at, cut, insert) => {
        outcome(ok.slice(0, at) + insert + ok.slice(at + cut))
      }),
      options,
    )
  })
})

describe('decodeXml', () => {
  it('decodes by BOM or declared encoding', () => {
    const latin1 = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a>Brøyting</a>', 'latin1')
    expect(decodeXml(latin1)).toContain('Brøyting')
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>ø</a>', 'utf16le')])
    expect(decodeXml(utf16)).toBe('<a>ø</a>')
    expect(decodeXml(Buffer.from('<a>ø</a>', 'utf8'))).toBe('<a>ø</a>')
    expect(() => decodeXml(Buffer.from('<?xml version="1.0" encoding="no-such-charset"?><a/>'))).toThrow(
      ApiError,
    )
  })
})
