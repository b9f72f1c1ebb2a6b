import { describe, expect, it } from 'vitest'
import { BUSINESS_MESSAGE_TYPES, businessMessageShape } from './business-schemas.js'
import { MESSAGE_TYPE_NAMES } from './message-types.js'
import { parseSbd, serializeSbd } from './parse.js'
import { defaultProcess, defaultStandard, defaultTypeVersion, prototypeBusinessMessage } from './prototype.js'
import { checkStandardMatchesType } from './rules.js'
import { header } from './test-support.js'
import { validateForService, validateSbd } from './validate.js'

const NOW = new Date('2026-01-15T12:00:00+01:00')

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  )
}

describe('prototypes', () => {
  for (const type of BUSINESS_MESSAGE_TYPES) {
    it(`${type}: every field present, parses back unchanged and passes validation once filled in`, () => {
      const proto = prototypeBusinessMessage(type)
      const sbd = parseSbd({ standardBusinessDocumentHeader: header(type), [type]: proto })
      expect(validateSbd(sbd, NOW)).toEqual([])
      expect(checkStandardMatchesType(sbd)).toBeUndefined()
      // every field of the class, in its order; it reads back as given apart from the null dates
      expect(Object.keys(proto)).toEqual(Object.keys(businessMessageShape(type).fields))
      expect(serializeSbd(sbd)[type]).toEqual(withoutNulls(proto))
    })
  }

  it('returns fresh objects', () => {
    const a = prototypeBusinessMessage('print') as { mottaker: Record<string, unknown> }
    a.mottaker.navn = 'changed'
    expect((prototypeBusinessMessage('print') as { mottaker: Record<string, unknown> }).mottaker.navn).toBe(
      '',
    )
  })

  it('uses the reference’s enum defaults', () => {
    expect(prototypeBusinessMessage('print')).toMatchObject({
      utskriftsfarge: 'SORT_HVIT',
      posttype: 'B_OEKONOMI',
      retur: { returhaandtering: 'DIREKTE_RETUR' },
      printinstruksjoner: {},
    })
    expect(prototypeBusinessMessage('arkivmelding')).toMatchObject({
      sikkerhetsnivaa: 3,
      dpv: { varselType: 'VarselDPVMedRevarsel' },
    })
  })

  it('a filled-in DPH prototype passes the DPH business message validation', () => {
    const proto = prototypeBusinessMessage('dialogmelding') as { pasient: Record<string, string> }
    const sbd = () =>
      parseSbd({ standardBusinessDocumentHeader: header('dialogmelding'), dialogmelding: proto })
    expect(validateForService(sbd(), 'DPH', NOW).length).toBeGreaterThan(0)
    Object.assign(proto.pasient, { fnr: '08089409382', fornavn: 'Kari', etternavn: 'Nordmann' })
    expect(validateForService(sbd(), 'DPH', NOW)).toEqual([])
  })
})

describe('header defaults', () => {
  it('gives a standard ending with ::type for every type', () => {
    for (const type of MESSAGE_TYPE_NAMES) expect(defaultStandard(type).endsWith(`::${type}`)).toBe(true)
    expect(defaultStandard('digital')).toBe('urn:no:difi:digitalpost:xsd:digital::digital')
    expect(
      defaultStandard('dialogmelding', { dph: { dialogmeldingDocumentType: 'urn:x::dialogmelding' } }),
    ).toBe('urn:x::dialogmelding')
    expect(defaultTypeVersion('arkivmelding')).toBe('2.0')
  })

  it('gives the default processes, configurable', () => {
    expect(defaultProcess('arkivmelding')).toBe('urn:no:difi:profile:arkivmelding:administrasjon:ver1.0')
    expect(defaultProcess('arkivmelding', { arkivmelding: { dpvDefaultProcess: 'urn:dpv' } }, 'DPV')).toBe(
      'urn:dpv',
    )
    expect(defaultProcess('arkivmelding_kvittering')).toBe('urn:no:difi:profile:arkivmelding:response:ver1.0')
    expect(defaultProcess('avtalt')).toBe('urn:no:difi:profile:avtalt:avtalt:ver1.0')
    expect(defaultProcess('digital')).toBe('urn:no:difi:profile:digitalpost:info:ver1.0')
    expect(defaultProcess('innsynskrav')).toBe('urn:no:difi:profile:einnsyn:innsynskrav:ver1.0')
    expect(defaultProcess('publisering', { einnsyn: { defaultJournalProcess: 'urn:j' } })).toBe('urn:j')
    expect(defaultProcess('einnsyn_kvittering')).toBe('urn:no:difi:profile:einnsyn:response:ver1.0')
    expect(defaultProcess('dialogmelding')).toBe('urn:no:difi:profile:helse:helse:ver1.0')
    expect(defaultProcess('dialogmelding_kvittering')).toBe('urn:no:difi:profile:helse:response:ver1.0')
    expect(defaultProcess('status')).toBeNull()
  })
})
