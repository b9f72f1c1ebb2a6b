import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fixtures } from '../../test/fixtures/service-registry/index.js'
import { escapeControlCharsInStrings, parseIdentifierResource, parseJsonText, SrShapeError } from './parse.js'
import { EMPTY_POST_ADDRESS } from './types.js'

const record = (extra: Record<string, unknown> = {}) => ({
  infoRecord: { identifier: '910075918', entityType: { name: 'ORGL' } },
  serviceRecords: [{ process: 'p', documentTypes: ['d'], service: { identifier: 'DPO' }, ...extra }],
})

describe('parseIdentifierResource', () => {
  it('applies the client-side defaults when keys are missing', () => {
    const r = parseIdentifierResource({ serviceRecords: [{}] }).serviceRecords[0]!
    expect(r).toMatchObject({
      organisationNumber: '',
      pemCertificate: '',
      epostAdresse: '',
      mobilnummer: '',
      fysiskPost: false,
      kanVarsles: false,
      postAddress: EMPTY_POST_ADDRESS,
      returnAddress: EMPTY_POST_ADDRESS,
      process: null,
      documentTypes: [],
      orgnrPostkasse: null,
      herId: null,
      patient: null,
    })
    expect(r.service).toEqual({
      identifier: 'UNKNOWN',
      endpointUrl: '',
      serviceCode: null,
      serviceEditionCode: null,
      securityLevel: null,
      resource: null,
    })
  })

  it('keeps an explicit null instead of the default', () => {
    const r = parseIdentifierResource(
      record({
        organisationNumber: null,
        pemCertificate: null,
        epostAdresse: null,
        postAddress: null,
        returnAddress: null,
      }),
    ).serviceRecords[0]!
    expect(r.organisationNumber).toBeNull()
    expect(r.pemCertificate).toBeNull()
    expect(r.epostAdresse).toBeNull()
    expect(r.postAddress).toBeNull()
    expect(r.returnAddress).toBeNull()
    expect(parseIdentifierResource(record({ fysiskPost: null })).serviceRecords[0]!.fysiskPost).toBe(false)
  })

  it('fills missing address members with empty strings but keeps null members', () => {
    const r = parseIdentifierResource(record({ postAddress: { name: 'Ola', country: null } }))
      .serviceRecords[0]!
    expect(r.postAddress).toEqual({ name: 'Ola', street: '', postalCode: '', postalArea: '', country: null })
  })

  it('reads an unknown or missing service identifier as UNKNOWN (the reference: "STRANGE" still parses)', () => {
    const ids = ['STRANGE', 'dpo', 'DPFIO', undefined].map(
      (identifier) =>
        parseIdentifierResource(record({ service: { identifier } })).serviceRecords[0]!.service.identifier,
    )
    expect(ids).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN'])
    expect(parseIdentifierResource(record({ service: null })).serviceRecords[0]!.service.identifier).toBe(
      'UNKNOWN',
    )
  })

  it('ignores unknown keys and coerces scalars as Jackson does', () => {
    const r = parseIdentifierResource({
      ...record({
        herIdLevel1: '8143541',
        herId: 8143548,
        service: { identifier: 'DPF', securityLevel: '4', x: 1 },
      }),
      extra: { any: 'thing' },
    }).serviceRecords[0]!
    expect(r.herId).toBe('8143548')
    expect(r.service.securityLevel).toBe(4)
    expect(r).not.toHaveProperty('herIdLevel1')
    expect(
      parseIdentifierResource(record({ organisationNumber: 910075918 })).serviceRecords[0]!
        .organisationNumber,
    ).toBe('910075918')
  })

  it('wraps a bare base64 certificate in BEGIN/END lines, as the reference getter', () => {
    const r = parseIdentifierResource(record({ pemCertificate: 'MIIBAA==' })).serviceRecords[0]!
    expect(r.pemCertificate).toBe('-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n')
  })

  it('treats a missing serviceRecords list (an /info answer) as empty and keeps the info record', () => {
    const r = parseIdentifierResource({
      infoRecord: {
        identifier: '910077473',
        organizationName: 'X',
        postadresse: { adresse: 'Gate 1' },
        herId: '42',
      },
    })
    expect(r.serviceRecords).toEqual([])
    expect(r.infoRecord).toMatchObject({
      identifier: '910077473',
      organizationName: 'X',
      postadresse: { adresse: 'Gate 1', postnummer: null, poststed: null, land: null },
      herId: 42,
      entityType: null,
    })
  })

  it('rejects wrong shapes with the path of the problem', () => {
    const bad: [unknown, string][] = [
      [null, '$: expected a JSON object, got null'],
      [[], '$: expected an object, got a list'],
      ['text', '$: expected an object, got string'],
      [{ serviceRecords: {} }, '$.serviceRecords: expected a list, got object'],
      [{ serviceRecords: [1] }, '$.serviceRecords[0]: expected an object, got number'],
      [record({ documentTypes: 'd' }), '$.serviceRecords[0].documentTypes: expected a list, got string'],
      [
        record({ documentTypes: [{}] }),
        '$.serviceRecords[0].documentTypes[0]: expected a string, got object',
      ],
      [
        record({ service: { securityLevel: 3.5 } }),
        '$.serviceRecords[0].service.securityLevel: expected an integer',
      ],
      [record({ kanVarsles: 'yes' }), '$.serviceRecords[0].kanVarsles: expected a boolean, got string'],
      [{ infoRecord: 'x' }, '$.infoRecord: expected an object, got string'],
    ]
    for (const [value, message] of bad) {
      expect(() => parseIdentifierResource(value), message).toThrow(SrShapeError)
      expect(() => parseIdentifierResource(value)).toThrow(message)
    }
  })

  it('never fails with anything but SrShapeError, whatever JSON it gets', () => {
    const json = fc.jsonValue()
    const shaped = fc.record({ infoRecord: json, serviceRecords: fc.array(fc.dictionary(fc.string(), json)) })
    fc.assert(
      fc.property(fc.oneof(json, shaped), (value) => {
        try {
          parseIdentifierResource(value)
        } catch (err) {
          if (!(err instanceof SrShapeError)) throw err
        }
      }),
    )
  })

  it('returns frozen values, so a cached answer cannot be changed by one caller', () => {
    const r = parseIdentifierResource(fixtures.dpoOrg())
    expect(Object.isFrozen(r.serviceRecords[0]!.documentTypes)).toBe(true)
    expect(() => (r.serviceRecords as unknown[]).push(1)).toThrow()
  })
})

describe('parseJsonText', () => {
  it('accepts raw control characters inside strings, as the reference (ALLOW_UNQUOTED_CONTROL_CHARS)', () => {
    const text = '{"pemCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\tAA\n-----END CERTIFICATE-----"}'
    expect(parseJsonText(text)).toEqual({
      pemCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\tAA\n-----END CERTIFICATE-----',
    })
  })

  it('still rejects what is not JSON', () => {
    expect(() => parseJsonText('<html>')).toThrow(SyntaxError)
    expect(() => parseJsonText('{"a": 1')).toThrow(SyntaxError)
  })

  it('reads a text with a byte order mark', () => {
    expect(parseJsonText('\ufeff{"a":1}')).toEqual({ a: 1 })
  })

  it('escaping control characters in strings keeps every value, and leaves valid JSON alone (property)', () => {
    const controls = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) })
    const value = fc.oneof(fc.jsonValue(), fc.dictionary(controls, fc.array(controls)))
    fc.assert(
      fc.property(value, (v) => {
        const text = JSON.stringify(v)
        expect(escapeControlCharsInStrings(text)).toBe(text)
        // undo JSON.stringify's escaping of control characters, pairwise so '\\' stays as it is
        const raw = text.replace(/\\(["\\/bfnrt]|u[0-9a-f]{4})/g, (m, esc: string) => {
          const c =
            esc.length === 1 ? JSON.parse(`"${m}"`) : String.fromCharCode(Number.parseInt(esc.slice(1), 16))
          return (c as string).charCodeAt(0) < 0x20 ? c : m
        })
        expect(JSON.parse(escapeControlCharsInStrings(raw))).toEqual(JSON.parse(text))
      }),
    )
  })
})
