import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../errors/api-error.js'
import { BUSINESS_MESSAGE_TYPES } from './business-schemas.js'
import { parseSbd, parseSbdJson, serializeSbd } from './parse.js'
import { FULL, header, type Json, sbdJson } from './test-support.js'

function notReadable(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('MessageNotReadable')
    expect((err as ApiError).status).toBe(400)
    expect((err as Error).message.startsWith('JSON parse error: ')).toBe(true)
    return (err as ApiError).message
  }
  throw new Error('expected a parse error')
}

describe('the root', () => {
  it('accepts the header and the business message in either order', () => {
    const first = parseSbd(sbdJson('arkivmelding', { sikkerhetsnivaa: 3 }))
    const json = sbdJson('arkivmelding', { sikkerhetsnivaa: 3 })
    const reversed = parseSbd({
      arkivmelding: json.arkivmelding,
      standardBusinessDocumentHeader: json.standardBusinessDocumentHeader,
    })
    expect(reversed).toEqual(first)
    expect(first.type).toBe('arkivmelding')
    expect(first.businessMessage).toEqual({ sikkerhetsnivaa: 3 })
  })

  it('looks the header type up in any case, but the member must be spelt canonically', () => {
    const h = header('arkivmelding')
    ;(h.documentIdentification as Record<string, unknown>).type = 'ARKIVMELDING'
    expect(parseSbd({ standardBusinessDocumentHeader: h, arkivmelding: {} }).type).toBe('arkivmelding')
    expect(notReadable(() => parseSbd({ standardBusinessDocumentHeader: h, ARKIVMELDING: {} }))).toBe(
      'JSON parse error: Expected to find field named arkivmelding, but found ARKIVMELDING (at ARKIVMELDING)',
    )
    expect(notReadable(() => parseSbd({ ARKIVMELDING: {}, standardBusinessDocumentHeader: h }))).toContain(
      'Expected to find field named arkivmelding, but found ARKIVMELDING',
    )
  })

  it('names the error for each root rule', () => {
    const h = header('print')
    const cases: [unknown, string][] = [
      [[], 'Expected token START_OBJECT, but found START_ARRAY'],
      ['x', 'Expected token START_OBJECT, but found VALUE_STRING'],
      [null, 'Expected token START_OBJECT, but found VALUE_NULL'],
      [{}, 'Unknown BusinessMessageType = null. Expecting one of status,arkivmelding,'],
      [{ strange: {}, standardBusinessDocumentHeader: h }, 'Unknown BusinessMessageType = strange.'],
      [{ feil: {}, standardBusinessDocumentHeader: h }, 'Unknown BusinessMessageType = feil.'],
      [{ standardBusinessDocumentHeader: header('feil') }, 'Unknown BusinessMessageType = feil.'],
      [{ standardBusinessDocumentHeader: { headerVersion: '1.0' }, print: {} }, 'Missing type!'],
      [{ standardBusinessDocumentHeader: h }, 'Expected to find field named print, but found END_OBJECT'],
      [
        { standardBusinessDocumentHeader: h, digital: {} },
        'Expected to find field named print, but found digital',
      ],
      [{ print: {} }, 'Expected to find field named standardBusinessDocumentHeader, but found END_OBJECT'],
      [
        { standardBusinessDocumentHeader: h, print: {}, extra: 1 },
        'Expected token END_OBJECT, but found FIELD_NAME (at extra)',
      ],
      [
        { standardBusinessDocumentHeader: null, print: {} },
        'Expected token START_OBJECT, but found VALUE_NULL',
      ],
      [
        { standardBusinessDocumentHeader: h, print: 'x' },
        'Expected token START_OBJECT, but found VALUE_STRING (at print)',
      ],
      [
        { print: {}, standardBusinessDocumentHeader: header('digital') },
        "Business message 'print' does not match",
      ],
    ]
    for (const [input, text] of cases) expect(notReadable(() => parseSbd(input))).toContain(text)
  })

  it('parses text through parseSbdJson and reports bad JSON as not readable', () => {
    expect(parseSbdJson(JSON.stringify(sbdJson('avtalt'))).type).toBe('avtalt')
    expect(notReadable(() => parseSbdJson('{"a":'))).toMatch(/^JSON parse error: /)
  })
})

describe('business messages', () => {
  for (const type of BUSINESS_MESSAGE_TYPES) {
    it(`reads and writes every field of ${type} in the reference's order`, () => {
      const sbd = parseSbd(sbdJson(type, { ...FULL[type], unknownMember: 'dropped' }))
      const out = serializeSbd(sbd)
      expect(Object.keys(out)).toEqual(['standardBusinessDocumentHeader', type])
      expect(JSON.stringify(out[type])).toBe(JSON.stringify(FULL[type]))
    })
  }

  it('fills the reference’s default maps and treats null as empty', () => {
    expect(parseSbd(sbdJson('digital', {})).businessMessage).toEqual({ metadataFiler: {} })
    expect(parseSbd(sbdJson('print', { printinstruksjoner: null })).businessMessage).toEqual({
      printinstruksjoner: {},
    })
    expect(serializeSbd(parseSbd(sbdJson('dialogmelding', {}))).dialogmelding).toEqual({ metadataFiler: {} })
  })

  it('coerces as Jackson does', () => {
    const bm = parseSbd(
      sbdJson('digital', {
        hoveddokument: 12,
        sikkerhetsnivaa: ' 4 ',
        tittel: true,
        digitalPostInfo: { virkningsdato: '2019-05-12T10:00:00', aapningskvittering: 'false' },
        metadataFiler: { a: 1.5 },
      }),
    ).businessMessage
    expect(bm).toMatchObject({
      hoveddokument: '12',
      sikkerhetsnivaa: 4,
      tittel: 'true',
      digitalPostInfo: { virkningsdato: '2019-05-12', aapningskvittering: false },
      metadataFiler: { a: '1.5' },
    })
    const print = parseSbd(
      sbdJson('print', { utskriftsfarge: 1, posttype: '0', retur: { returhaandtering: ' DIREKTE_RETUR' } }),
    )
    expect(print.businessMessage).toMatchObject({ utskriftsfarge: 'FARGE', posttype: 'A_PRIORITERT' })
    expect(parseSbd(sbdJson('arkivmelding', { sikkerhetsnivaa: '' })).businessMessage).toEqual({})
    expect(parseSbd(sbdJson('arkivmelding', { sikkerhetsnivaa: 3.9 })).businessMessage).toEqual({
      sikkerhetsnivaa: 3,
    })
    const dates = parseSbd(
      sbdJson('dialogmelding', {
        metadataFiler: { a: { issueDate: 1700000000 }, b: { issueDate: '2026-01-15T12:00:00.5+01:00' } },
      }),
    ).businessMessage.metadataFiler
    // Instants read numbers as epoch seconds, as Jackson does
    expect(dates).toEqual({
      a: { issueDate: '2023-11-14T22:13:20Z' },
      b: { issueDate: '2026-01-15T11:00:00.500Z' },
    })
    const epochDay = parseSbd(sbdJson('digital', { digitalPostInfo: { virkningsdato: 1 } })).businessMessage
    expect(epochDay.digitalPostInfo).toEqual({ virkningsdato: '1970-01-02' })
    const einnsyn = parseSbd(sbdJson('einnsyn_kvittering', { referanseType: 'innsynskrav' }))
    expect(einnsyn.businessMessage.referanseType).toBe('innsynskrav')
  })

  it('refuses wrong shapes, naming the member', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'arkivmelding',
        { sikkerhetsnivaa: 'x' },
        '`java.lang.Integer` from String "x": not a valid `java.lang.Integer` value (at arkivmelding.sikkerhetsnivaa)',
      ],
      [
        'arkivmelding',
        { sikkerhetsnivaa: 3e10 },
        'out of range of `java.lang.Integer` (at arkivmelding.sikkerhetsnivaa)',
      ],
      ['arkivmelding', { sikkerhetsnivaa: true }, 'from Boolean value (token `JsonToken.VALUE_TRUE`)'],
      [
        'arkivmelding',
        { hoveddokument: { a: 1 } },
        '`java.lang.String` from Object value (token `JsonToken.START_OBJECT`) (at arkivmelding.hoveddokument)',
      ],
      ['arkivmelding', { hoveddokument: ['a'] }, 'from Array value'],
      [
        'arkivmelding',
        { dpv: 'x' },
        'Cannot construct instance of `no.difi.meldingsutveksling.nextmove.DpvSettings`',
      ],
      [
        'arkivmelding',
        { dpv: { varselType: 'EPOST' } },
        'not one of the values accepted for Enum class: [VarselDPVUtenRevarsel, VarselDPVMedRevarsel]',
      ],
      ['print', { utskriftsfarge: '' }, '(at print.utskriftsfarge)'],
      ['print', { utskriftsfarge: 7 }, 'index value outside legal index range [0..1]'],
      ['einnsyn_kvittering', { referanseType: 'INNSYNSKRAV' }, 'not one of the values accepted'],
      [
        'digital',
        { digitalPostInfo: { aapningskvittering: 'ja' } },
        'only "true" or "false" recognized (at digital.digitalPostInfo.aapningskvittering)',
      ],
      ['digital', { digitalPostInfo: { virkningsdato: '12.05.2019' } }, '`java.time.LocalDate`'],
      ['digital', { metadataFiler: ['a'] }, '(at digital.metadataFiler)'],
      ['digital', { metadataFiler: { 'a.pdf': { b: 1 } } }, '(at digital.metadataFiler["a.pdf"])'],
      ['arkivmelding_kvittering', { messages: { code: 'x' } }, 'from Object value'],
      [
        'arkivmelding_kvittering',
        { messages: [null] },
        'Null element in a collection is not allowed (at arkivmelding_kvittering.messages[0])',
      ],
      ['dialogmelding', { metadataFiler: { a: { issueDate: 'yesterday' } } }, '`java.time.Instant`'],
      ['status', { status: 'DONE' }, 'ReceiptStatus'],
      // dates we could not write back as read (beyond year 9999)
      [
        'digital',
        { digitalPostInfo: { virkningsdato: 3_000_000 } },
        '`java.time.LocalDate` from String "3000000"',
      ],
      ['dialogmelding', { metadataFiler: { a: { issueDate: 1e12 } } }, '`java.time.Instant`'],
    ]
    for (const [type, bm, text] of cases) {
      expect(notReadable(() => parseSbd(sbdJson(type as 'print', bm)))).toContain(text)
    }
  })

  it('keeps map keys such as __proto__ as data', () => {
    const input = JSON.parse(
      `{"standardBusinessDocumentHeader":${JSON.stringify(header('digital'))},"digital":{"metadataFiler":{"__proto__":"x.xml"}}}`,
    )
    const sbd = parseSbd(input)
    const filer = sbd.businessMessage.metadataFiler as Record<string, unknown>
    expect(Object.keys(filer)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(filer)).toBe(Object.prototype)
    expect(JSON.stringify(serializeSbd(sbd).digital)).toBe('{"metadataFiler":{"__proto__":"x.xml"}}')
  })
})

describe('the header', () => {
  it('writes fields in the reference order, value before authority, and [] for a missing sender', () => {
    const h = header('print', { sender: null, receiver: null })
    const out = serializeSbd(parseSbd({ print: {}, standardBusinessDocumentHeader: { ...h, unknown: 1 } }))
    const written = out.standardBusinessDocumentHeader as Record<string, unknown>
    expect(Object.keys(written)).toEqual([
      'headerVersion',
      'sender',
      'receiver',
      'documentIdentification',
      'businessScope',
    ])
    expect(written.sender).toEqual([])
    const withPartner = serializeSbd(parseSbd(sbdJson('print', {})))
    const sender = (withPartner.standardBusinessDocumentHeader as { sender: { identifier: object }[] }).sender
    expect(Object.keys(sender[0]!.identifier)).toEqual(['value', 'authority'])
  })

  it('keeps one of equal partners (a Java Set) but every scope', () => {
    const h = header('arkivmelding')
    h.receiver = [...(h.receiver as unknown[]), ...(h.receiver as unknown[])]
    const scope = (h.businessScope as { scope: unknown[] }).scope
    scope.push(scope[0])
    const sbd = parseSbd({ standardBusinessDocumentHeader: h, arkivmelding: {} })
    expect(sbd.standardBusinessDocumentHeader.receiver).toHaveLength(1)
    expect(sbd.standardBusinessDocumentHeader.businessScope?.scope).toHaveLength(2)
  })

  it('normalises dates to ISO-8601 with their offset and leaves out empty contact and scope information', () => {
    const h = header('arkivmelding', { expectedResponseDateTime: '2026-07-01T10:00+02:00' })
    ;(h.documentIdentification as Record<string, unknown>).creationDateAndTime = '2026-01-15T12:00:00.120Z'
    ;(h.receiver as Record<string, unknown>[])[0]!.contactInformation = []
    ;(h.businessScope as { scope: Record<string, unknown>[] }).scope.push({
      type: 'SenderRef',
      instanceIdentifier: 'ref',
      scopeInformation: [],
    })
    const out = serializeSbd(parseSbd({ standardBusinessDocumentHeader: h, arkivmelding: {} }))
    const written = out.standardBusinessDocumentHeader as Record<string, Json>
    expect(written.documentIdentification.creationDateAndTime).toBe('2026-01-15T12:00:00.12Z')
    expect(written.businessScope.scope[0].scopeInformation[0].expectedResponseDateTime).toBe(
      '2026-07-01T10:00:00+02:00',
    )
    expect(written.receiver[0]).not.toHaveProperty('contactInformation')
    expect(written.businessScope.scope[1]).toEqual({ type: 'SenderRef', instanceIdentifier: 'ref' })
  })

  it('computes manifest.numberOfItems when missing', () => {
    const h = header('arkivmelding')
    h.manifest = { manifestItem: [{ mimeTypeQualifierCode: 'pdf', uniformResourceIdentifier: 'a.pdf' }] }
    const out = serializeSbd(parseSbd({ standardBusinessDocumentHeader: h, arkivmelding: {} }))
    expect((out.standardBusinessDocumentHeader as Record<string, Json>).manifest.numberOfItems).toBe(1)
  })

  it('refuses a wrong header shape, naming the member', () => {
    const h = header('arkivmelding')
    ;(h.documentIdentification as Record<string, unknown>).creationDateAndTime = 'tomorrow'
    expect(notReadable(() => parseSbd({ standardBusinessDocumentHeader: h, arkivmelding: {} }))).toContain(
      '(at standardBusinessDocumentHeader.documentIdentification.creationDateAndTime)',
    )
    const h2 = header('arkivmelding')
    h2.sender = { identifier: {} }
    expect(notReadable(() => parseSbd({ standardBusinessDocumentHeader: h2, arkivmelding: {} }))).toContain(
      '(at standardBusinessDocumentHeader.sender)',
    )
  })
})

describe('the reference samples', () => {
  // the shared reference samples, when this checkout sits beside them
  const dir = fileURLToPath(new URL('../../../shared/reference/data/samples/sbd', import.meta.url))
  it.runIf(existsSync(dir))(
    'parse in both orders to the same SBD and write back with the header first',
    () => {
      const read = (f: string) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'))
      const ordered = parseSbd(read('StandardBusinessDocument.json'))
      expect(parseSbd(read('StandardBusinessDocument-unordered.json'))).toEqual(ordered)
      expect(Object.keys(serializeSbd(ordered))).toEqual(['standardBusinessDocumentHeader', 'arkivmelding'])
    },
  )
})
