import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  allDocs,
  CONVERSATION,
  digitalDoc,
  PROVIDER,
  RECEIPT_ID,
  SENDER,
  utskriftDoc,
} from './dpi.fixtures.js'
import {
  checkDpiDocument,
  DPI_FORMATS,
  type DpiDocument,
  dpiBody,
  dpiProcess,
  dpiReceipt,
  dpiStandard,
  isDpiType,
} from './dpi.js'
import { ajvErrors, hasDpiSchemas } from './dpi-ajv.fixtures.js'

type Json = Record<string, unknown>
const body = (doc: DpiDocument) => dpiBody(doc) as Json
const problemOf = (doc: unknown) => {
  const r = checkDpiDocument(doc)
  return r.ok ? null : r.problem
}

describe('checkDpiDocument', () => {
  it.each(allDocs())('accepts a complete %s', (_, doc) => {
    const r = checkDpiDocument(doc)
    expect(r).toMatchObject({ ok: true, doc })
  })

  it('names the JSON path of what is wrong', () => {
    const d = digitalDoc()
    delete (body(d).mottaker as Json).postkasseadresse
    expect(problemOf(d)).toBe('standardBusinessDocument.digital.mottaker.postkasseadresse: is required')

    const s = digitalDoc()
    body(s).spraak = 'NOR'
    expect(problemOf(s)).toBe('standardBusinessDocument.digital.spraak: must be 2 characters')

    const r = digitalDoc()
    ;((body(r).varsler as Json).smsvarsel as Json).repetisjoner = [0, 26]
    expect(problemOf(r)).toMatch(
      /^standardBusinessDocument\.digital\.varsler\.smsvarsel\.repetisjoner\[1\]: /,
    )

    const x = digitalDoc()
    body(x).extra = 1
    expect(problemOf(x)).toBe('standardBusinessDocument.digital: unknown member(s) extra')

    const h = digitalDoc()
    h.standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier =
      'x-1'
    expect(problemOf(h)).toBe(
      'standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier: is not a uuid',
    )
  })

  it('refuses an unknown type, a body under another key, and what is not a document', () => {
    const d = digitalDoc()
    d.standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.type = 'kvittering'
    expect(problemOf(d)).toMatch(/documentIdentification\.type: "kvittering" is not a DPI document type/)
    const u = digitalDoc() as unknown as { standardBusinessDocument: Json }
    u.standardBusinessDocument.utskrift = u.standardBusinessDocument.digital
    delete u.standardBusinessDocument.digital
    expect(problemOf(u)).toMatch(/standardBusinessDocument/)
    expect(problemOf(null)).not.toBeNull()
    expect(problemOf({ standardBusinessDocument: {} })).toMatch(/standardBusinessDocumentHeader: is required/)
  })

  it('checks the print address oneOf: Norway, or abroad with exactly one of land and landkode', () => {
    const address = (mottaker: object) => problemOf(utskriftDoc(mottaker))
    expect(address({ navn: 'N', adresselinje1: 'L', postnummer: '0150', poststed: 'Oslo' })).toBeNull()
    expect(address({ navn: 'N', adresselinje1: 'L', land: 'Sverige' })).toBeNull()
    expect(address({ navn: 'N', adresselinje1: 'L', landkode: 'SE' })).toBeNull()
    expect(address({ navn: 'N', adresselinje1: 'L', land: 'Sverige', landkode: 'SE' })).toMatch(
      /mottaker: needs/,
    )
    expect(
      address({ navn: 'N', adresselinje1: 'L', postnummer: '0150', poststed: 'Oslo', land: 'Norge' }),
    ).toMatch(/mottaker: is both/)
    expect(address({ navn: 'N', adresselinje1: 'L', postnummer: '0150' })).toMatch(/mottaker: needs/)
    expect(address({ navn: 'N', adresselinje1: 'L', postnummer: '150', poststed: 'Oslo' })).toMatch(
      /postnummer/,
    )
    expect(address({ adresselinje1: 'L', land: 'Sverige' })).toMatch(/mottaker: needs/)
  })

  it('counts lengths in code points, as JSON Schema does', () => {
    const d = digitalDoc()
    ;(body(d).avsender as Json).avsenderidentifikator = `${'a'.repeat(99)}😀` // 101 UTF-16 units, 100 code points
    expect(problemOf(d)).toBeNull()
    ;(body(d).avsender as Json).avsenderidentifikator = `${'a'.repeat(100)}😀`
    expect(problemOf(d)).toMatch(/avsenderidentifikator: must be 0 to 100 characters/)
  })

  it('leaves varsler open as the schema does (no type, no additionalProperties)', () => {
    const d = digitalDoc()
    ;(body(d).varsler as Json).annet = 1
    expect(problemOf(d)).toBeNull()
    body(d).varsler = 'anything'
    expect(problemOf(d)).toBeNull()
    body(d).varsler = {
      epostvarsel: { epostadresse: 'not an address', varslingstekst: 'x', repetisjoner: [0] },
    }
    expect(problemOf(d)).toMatch(/varsler\.epostvarsel\.epostadresse: is not a email/)
  })
})

describe('DPI_FORMATS', () => {
  it.each([
    ['uuid', '8d2b6c8e-6f0e-4b7e-9a51-3c1d2e4f5a60', true],
    ['uuid', '8D2B6C8E-6F0E-4B7E-9A51-3C1D2E4F5A60', true],
    ['uuid', '8d2b6c8e6f0e4b7e9a513c1d2e4f5a60', false],
    ['uuid', '1-1-1-1-1', false],
    ['date', '2024-02-29', true],
    ['date', '2026-02-29', false],
    ['date', '2026-13-01', false],
    ['date-time', '2026-08-20T10:15:30.120+02:00', true],
    ['date-time', '2026-08-20T10:15:30Z', true],
    ['date-time', '2026-08-20T10:15:30', false],
    ['date-time', '2026-08-20T24:00:00Z', false],
    ['date-time', '2026-08-20 10:15:30Z', false],
    ['date-time', '2026-08-20', false],
    ['email', 'ola@example.no', true],
    ['email', 'ola.nordmann+post@sub.example.no', true],
    ['email', 'ola@', false],
    ['email', 'ola example@x.no', false],
  ] as const)('%s %s: %s', (format, value, ok) => {
    expect(DPI_FORMATS[format](value)).toBe(ok)
  })
})

describe('dpiStandard, dpiProcess', () => {
  it('are the reference identifiers', () => {
    expect(dpiStandard('leveringskvittering')).toBe(
      'urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:leveringskvittering::1.0',
    )
    expect(dpiProcess('utskrift')).toBe(
      'urn:fdc:digdir.no:2020:profile:egovernment:innbyggerpost:utskrift:ver1.0',
    )
  })
})

describe('dpiReceipt', () => {
  it('makes a receipt from the provider to the letter sender, with the letter conversation scope copied', () => {
    const letter = digitalDoc()
    const r = dpiReceipt({
      type: 'feil',
      original: letter,
      provider: PROVIDER,
      id: RECEIPT_ID,
      tidspunkt: new Date('2026-08-20T08:16:00Z'),
      feiltype: 'SERVER',
      now: new Date('2026-08-20T08:16:01Z'),
    })
    const h = r.standardBusinessDocument.standardBusinessDocumentHeader
    expect(h.sender[0]!.identifier).toEqual({ authority: 'iso6523-actorid-upis', value: `0192:${PROVIDER}` })
    expect(h.receiver[0]!.identifier.value).toBe(`0192:${SENDER}`)
    expect(h.documentIdentification).toEqual({
      standard: dpiStandard('feil'),
      typeVersion: '1.0',
      instanceIdentifier: RECEIPT_ID,
      type: 'feil',
      creationDateAndTime: '2026-08-20T10:16:01+02:00',
    })
    expect(h.businessScope).toEqual(
      letter.standardBusinessDocument.standardBusinessDocumentHeader.businessScope,
    )
    expect(h.businessScope.scope[0]!.instanceIdentifier).toBe(CONVERSATION)
    expect(r.standardBusinessDocument.feil).toEqual({
      avsender: {
        virksomhetsidentifikator: { authority: 'iso6523-actorid-upis', value: `0192:${PROVIDER}` },
      },
      mottaker: { virksomhetsidentifikator: { authority: 'iso6523-actorid-upis', value: `0192:${SENDER}` } },
      tidspunkt: '2026-08-20T10:16:00+02:00',
      feiltype: 'SERVER',
    })
    expect(checkDpiDocument(r).ok).toBe(true)
  })

  it('refuses a varslingfeiletkvittering without its channel and a feil without its type', () => {
    const base = {
      original: digitalDoc(),
      provider: PROVIDER,
      id: RECEIPT_ID,
      tidspunkt: new Date(),
      now: new Date(),
    }
    expect(() => dpiReceipt({ ...base, type: 'varslingfeiletkvittering' })).toThrow(/varslingskanal/)
    expect(() => dpiReceipt({ ...base, type: 'feil' })).toThrow(/feiltype/)
  })
})

describe.skipIf(!hasDpiSchemas)('against the DPI JSON schemas (Ajv)', () => {
  it.each(allDocs())('the %s fixture is valid', (_, doc) => {
    const type = doc.standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.type
    if (!isDpiType(type)) throw new Error('fixture type')
    expect(ajvErrors(type, doc)).toEqual([])
  })

  const LONG = 'x'.repeat(256)
  const VALUES: unknown[] = [
    ...['', 'x', 'NO', 'NOR', LONG, `${'a'.repeat(99)}😀`, `${'a'.repeat(40)}`, `${'a'.repeat(41)}`],
    ...['0192:910077473', 'x0192:ab', '0192:', 'iso6523-actorid-upis', 'iso3166-1-alfa2'],
    ...['FARGE', 'SORT_HVIT', 'A', 'B', 'C', 'DIREKTE_RETUR', 'KLIENT', 'SERVER', 'epost', 'sms', 'SMS'],
    ...['0150', '150', 'Oslo', 'SE', 'S', 'Sverige', '+47 99 99 99 99', '9999999', '+47-999-99999x'],
    ...['8d2b6c8e-6f0e-4b7e-9a51-3c1d2e4f5a60', '1-1-1-1-1', '2026-08-20', '2026-02-30'],
    ...['2026-08-20T10:15:30+02:00', '2026-08-20T10:15:30', 'ola@example.no', 'ola@'],
    ...['digital', 'utskrift', 'feil', 'leveringskvittering', 'flyttet', 'Digital'],
    ...[0, 3, 4, 7, 25, 26, -1, 3.5, true, false, null],
    ...[[], [0, 7], [0, 26], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], ['7'], {}, { a: 1 }],
    ...[{ virksomhetsidentifikator: { authority: 'iso6523-actorid-upis', value: '0192:910077473' } }],
    ...[
      { navn: 'N', adresselinje1: 'L', land: 'X' },
      { navn: 'N', adresselinje1: 'L', landkode: 'SE', land: 'X' },
    ],
    ...[{ postkasseadresse: 'a#1' }, { digestMethod: 'x', digestValue: 'y' }],
    ...[{ epostadresse: 'a@b.no', varslingstekst: 'x', repetisjoner: [0] }],
  ]

  /** every path to a value in `doc` */
  function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
    if (value === null || typeof value !== 'object') return [at]
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value)
    return [at, ...entries.flatMap(([k, v]) => paths(v, [...at, k]))]
  }

  function mutate(doc: unknown, path: (string | number)[], op: number, value: unknown): unknown {
    if (path.length === 0) return doc
    const parent = path
      .slice(0, -1)
      .reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc) as
      | Record<string | number, unknown>
      | unknown[]
    const key = path[path.length - 1]!
    if (op === 0) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1)
      else delete parent[key]
    } else if (op === 1) {
      ;(parent as Record<string | number, unknown>)[key] = structuredClone(value)
    } else {
      const target = (parent as Record<string | number, unknown>)[key]
      if (Array.isArray(target)) target.push(structuredClone(value))
      else if (target !== null && typeof target === 'object')
        (target as Record<string, unknown>)[
          ['extra', 'land', 'landkode', 'postnummer', 'poststed', 'navn'][op % 6]!
        ] = structuredClone(value)
      else (parent as Record<string | number, unknown>)[key] = structuredClone(value)
    }
    return doc
  }

  it('agrees with Ajv on mutated documents', () => {
    const docs = allDocs().map(([, d]) => d)
    const seen = { valid: 0, invalid: 0 }
    const mutation = fc.tuple(fc.nat(), fc.nat({ max: 7 }), fc.constantFrom(...VALUES))
    fc.assert(
      fc.property(
        fc.nat({ max: docs.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (i, ms) => {
          const doc: unknown = structuredClone(docs[i])
          for (const [p, op, value] of ms) {
            const all = paths(doc)
            mutate(doc, all[p % all.length]!, op, value)
          }
          const type = (doc as DpiDocument).standardBusinessDocument?.standardBusinessDocumentHeader
            ?.documentIdentification?.type
          const ours = checkDpiDocument(doc)
          if (!isDpiType(type)) {
            expect(ours.ok).toBe(false)
            return
          }
          const theirs = ajvErrors(type, doc)
          seen[theirs.length === 0 ? 'valid' : 'invalid']++
          expect({ ok: ours.ok, problem: ours.ok ? null : ours.problem, ajv: theirs }).toMatchObject({
            ok: theirs.length === 0,
          })
        },
      ),
      { numRuns: 10_000 },
    )
    // both sides of the question were asked often
    expect(seen.valid).toBeGreaterThan(1000)
    expect(seen.invalid).toBeGreaterThan(1000)
  })
})
