import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixtures } from '../../test/fixtures/service-registry/index.js'
import { parseIdentifierResource } from '../registry/parse.js'
import { toCapabilities } from './mapper.js'

const map = (answer: unknown) => toCapabilities(parseIdentifierResource(answer))
const EMPTY_ADDRESS = { name: '', street: '', postalCode: '', postalArea: '', country: '' }
const DIGITAL = { type: 'digital', standard: 'urn:no:difi:digitalpost:xsd:digital::digital' }
const PRINT = { type: 'print', standard: 'urn:no:difi:digitalpost:xsd:fysisk::print' }

// The reference's capabilities.feature answer for 910077473, written out in the reference's key order.
const EXPECTED_910077473 = {
  capabilities: [
    {
      process: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
      serviceIdentifier: 'DPO',
      documentTypes: [{ type: 'arkivmelding', standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding' }],
    },
    {
      process: 'urn:no:difi:profile:arkivmelding:response:ver1.0',
      serviceIdentifier: 'DPO',
      documentTypes: [
        {
          type: 'arkivmelding_kvittering',
          standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering',
        },
        { type: 'status', standard: 'urn:no:difi:arkivmelding:xsd::status' },
        { type: 'feil', standard: 'urn:no:difi:arkivmelding:xsd::feil' },
      ],
    },
    {
      process: 'urn:no:difi:profile:einnsyn:response:ver1.0',
      serviceIdentifier: 'DPE',
      documentTypes: [
        { type: 'einnsyn_kvittering', standard: 'urn:no:difi:einnsyn:xsd::einnsyn_kvittering' },
        { type: 'status', standard: 'urn:no:difi:eformidling:xsd::status' },
        { type: 'feil', standard: 'urn:no:difi:eformidling:xsd::feil' },
      ],
    },
  ],
}

const dpiCapability = (process: string) => ({
  process,
  serviceIdentifier: 'DPI',
  postAddress: EMPTY_ADDRESS,
  returnAddress: EMPTY_ADDRESS,
  documentTypes: [DIGITAL, PRINT],
  digitalPostAddress: { supplier: '987464291', address: 'dummy' },
})

const EXPECTED_09118532322 = {
  capabilities: [
    dpiCapability('urn:no:difi:profile:digitalpost:info:ver1.0'),
    dpiCapability('urn:no:difi:profile:digitalpost:vedtak:ver1.0'),
  ],
}

describe('toCapabilities', () => {
  it('gives the reference answer for 910077473 (DPO, no address keys), in the reference key order', () => {
    const out = map(fixtures.capabilitiesOrg())
    expect(JSON.stringify(out)).toBe(JSON.stringify(EXPECTED_910077473))
  })

  it('gives the reference answer for the DPI person 09118532322: empty addresses when the SR sent no address keys', () => {
    const out = map(fixtures.dpiPerson())
    expect(JSON.stringify(out)).toBe(JSON.stringify(EXPECTED_09118532322))
  })

  it('copies DPI print addresses and leaves out null ones and null members', () => {
    const out = map(fixtures.dpiPrintPerson())
    expect(out.capabilities[0]).toEqual({
      process: 'urn:no:difi:profile:digitalpost:info:ver1.0',
      serviceIdentifier: 'DPI',
      documentTypes: [DIGITAL],
      digitalPostAddress: { supplier: '984661185', address: 'ola.nordmann#9ZXY' },
    })
    expect(Object.keys(out.capabilities[1]!)).toEqual([
      'process',
      'serviceIdentifier',
      'postAddress',
      'returnAddress',
      'documentTypes',
      'digitalPostAddress',
    ])
    expect(out.capabilities[1]).toMatchObject({
      postAddress: {
        name: 'Ola Nordmann',
        street: 'Portveien 2',
        postalCode: '0468',
        postalArea: 'Oslo',
        country: 'Norge',
      },
      documentTypes: [PRINT],
      digitalPostAddress: { supplier: '987464291' },
    })
  })

  it('gives addresses and a digital post address only to DPI records', () => {
    const dpv = fixtures.dpvOrg()
    dpv.serviceRecords[0]!.orgnrPostkasse = '987464291'
    for (const answer of [dpv, fixtures.dpfOrg(), fixtures.einnsynOrg(), fixtures.dph()]) {
      for (const c of map(answer).capabilities) {
        expect(Object.keys(c)).toEqual(['process', 'serviceIdentifier', 'documentTypes'])
      }
    }
  })

  it('leaves out the type of an unknown document type, a null process, and empty digital post members', () => {
    const out = map({
      serviceRecords: [
        {
          process: null,
          documentTypes: ['urn:x:y::unknown', 'no-separator'],
          service: { identifier: 'STRANGE' },
        },
        {
          process: 'p',
          documentTypes: [],
          service: { identifier: 'DPI' },
          postAddress: null,
          returnAddress: null,
        },
      ],
    })
    expect(out.capabilities).toEqual([
      {
        serviceIdentifier: 'UNKNOWN',
        documentTypes: [{ standard: 'urn:x:y::unknown' }, { standard: 'no-separator' }],
      },
      { process: 'p', serviceIdentifier: 'DPI', documentTypes: [], digitalPostAddress: {} },
    ])
  })

  it('maps the legacy eInnsyn ids by suffix (…:xsd:innsyn::innsynskrav → innsynskrav)', () => {
    const out = map({
      serviceRecords: [
        {
          process: 'urn:no:difi:profile:einnsyn-innsynskrav:ver1.0',
          documentTypes: ['urn:no:difi:einnsyn:xsd:innsyn::innsynskrav'],
          service: { identifier: 'DPE', endpointUrl: 'innsyn' },
        },
      ],
    })
    expect(out.capabilities[0]!.documentTypes).toEqual([
      { type: 'innsynskrav', standard: 'urn:no:difi:einnsyn:xsd:innsyn::innsynskrav' },
    ])
  })

  it('gives an empty list for no records', () => {
    expect(map({ infoRecord: null, serviceRecords: [] })).toEqual({ capabilities: [] })
  })
})

// The shared reference samples, when this checkout sits beside them.
const SAMPLES = new URL('../../../shared/reference/data/samples/service-registry/', import.meta.url)

describe.runIf(existsSync(SAMPLES))('toCapabilities on the shared reference samples', () => {
  const sample = (name: string) => JSON.parse(readFileSync(new URL(name, SAMPLES), 'utf8')) as unknown

  it('09118532322.json gives the capabilities.feature answer', () => {
    expect(map(sample('09118532322.json'))).toEqual(EXPECTED_09118532322)
  })

  it('910075935.json gives one DPE innsynskrav capability', () => {
    expect(map(sample('910075935.json'))).toEqual({
      capabilities: [
        {
          process: 'urn:no:difi:profile:einnsyn-innsynskrav:ver1.0',
          serviceIdentifier: 'DPE',
          documentTypes: [{ type: 'innsynskrav', standard: 'urn:no:difi:einnsyn:xsd:innsyn::innsynskrav' }],
        },
      ],
    })
  })
})
