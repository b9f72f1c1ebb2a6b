import { beforeAll, describe, expect, it } from 'vitest'
import type { Catalogue, Person } from './catalog.js'
import { route } from './rules-person.js'
import { failure, lookups, PROCESS, rulesCatalogue, testCertificatePem } from './test-support.js'

const DPV_URL = 'https://tt02.altinn.no/ServiceEngineExternal/CorrespondenceAgencyExternal.svc'
const DPI_URL = 'https://qaoffentlig.meldingsformidler.digipost.no/api/ebms'
let cert: string
let cat: Catalogue

beforeAll(async () => {
  cert = testCertificatePem()
  cat = await rulesCatalogue()
})

const { ask, records, services } = lookups(() => cat)

describe('persons', () => {
  it('are routed as DpiMessageRouter: info ignores reservation and notification, vedtak respects both', () => {
    const p = (
      reserved: boolean,
      notifiable: boolean,
      mailbox: boolean,
      status: 'AKTIV' | 'SLETTET' = 'AKTIV',
    ) => ({ reserved, notifiable, status, mailbox: mailbox ? { certificate: 'x' } : null }) as Person
    expect(route(p(true, false, true), false)).toBe('DPI')
    expect(route(p(false, true, false), false)).toBe('DPV')
    expect(route(p(false, true, true, 'SLETTET'), false)).toBe('DPV')
    expect(route(p(true, true, true), true)).toBe('PRINT')
    expect(route(p(false, false, true), true)).toBe('PRINT')
    expect(route(p(false, true, true), true)).toBe('DPI')
    expect(route(p(false, true, false), true)).toBe('DPV')
    expect(route(undefined, false)).toBe('DPV')
    expect(route(undefined, true)).toBe('PRINT')
  })

  it('with a mailbox get one DPI record per process, with KRR’s contact fields', () => {
    const [info] = records('01819040180', { process: PROCESS.info })
    expect(info).toEqual({
      organisationNumber: '01819040180',
      pemCertificate: cert,
      process: PROCESS.info,
      documentTypes: ['urn:no:difi:digitalpost:xsd:digital::digital'],
      service: {
        identifier: 'DPI',
        endpointUrl: DPI_URL,
        serviceCode: null,
        serviceEditionCode: null,
        securityLevel: null,
        resource: null,
      },
      orgnrPostkasse: '910085379',
      postkasseAdresse: 'ola#1',
      mobilnummer: '+47',
      kanVarsles: true,
      epostAdresse: 'o@x',
      fysiskPost: false,
      postAddress: null,
      returnAddress: null,
      spraak: 'nb',
    })
    expect(services('01819040180')).toEqual([`DPI ${PROCESS.info}`, `DPI ${PROCESS.vedtak}`])
  })

  it('without a mailbox get print and DPV for info, print alone for vedtak when not notifiable', () => {
    const [print, dpv, vedtak] = records('15857540015')
    expect(print).toMatchObject({
      documentTypes: ['urn:no:difi:digitalpost:xsd:fysisk::print'],
      orgnrPostkasse: '910085379',
      postkasseAdresse: null,
      fysiskPost: true,
      kanVarsles: false,
      postAddress: {
        name: 'Kari P Utskrift',
        street: 'c/o N Gata 5',
        postalCode: '5003',
        postalArea: 'BERGEN',
        country: 'NORGE',
      },
      returnAddress: {
        name: 'ETAT A',
        street: 'Portveien 2',
        postalCode: '0468',
        postalArea: 'OSLO',
        country: 'Norge',
      },
    })
    expect(dpv).toEqual({
      organisationNumber: '15857540015',
      pemCertificate: null,
      process: PROCESS.info,
      documentTypes: ['urn:no:difi:digitalpost:xsd:digital::digital_dpv'],
      service: {
        identifier: 'DPV',
        endpointUrl: DPV_URL,
        serviceCode: '4255',
        serviceEditionCode: '10',
        securityLevel: null,
        resource: 'eformidling-dpv-administrasjon',
      },
    })
    expect(vedtak).toMatchObject({ process: PROCESS.vedtak, fysiskPost: true })
    expect(services('15857540015', { print: false })).toEqual([`DPV ${PROCESS.info}`])
  })

  it('take the return address from the asking organisation when its token names one', () => {
    const [print] = records('15857540015', { consumer: '910077473' })
    expect(print!.returnAddress).toEqual({
      name: 'ETAT B',
      street: null,
      postalCode: null,
      postalArea: null,
      country: null,
    })
    expect(failure(() => ask('15857540015', { consumer: '999999999' }))).toEqual({
      status: 404,
      body: {
        kind: 'error',
        code: '',
        description: 'Sender with identifier=0192:999999999 not found in BRREG',
      },
    })
  })

  it('with a secret address get no print record: DPV alone', () => {
    expect(services('03909940094')).toEqual([`DPV ${PROCESS.info}`, `DPV ${PROCESS.vedtak}`])
  })

  it('unknown to the catalogue are citizens nobody can print to', () => {
    expect(failure(() => ask('24816040074'))).toEqual({
      status: 404,
      body: { kind: 'text', text: '{"message": "No service record found for citizen: 24816040074"}' },
    })
    expect(services('24816040074', { print: false })).toEqual([`DPV ${PROCESS.info}`])
    expect(ask('24816040074', { print: false }).infoRecord).toEqual({
      identifier: '24816040074',
      entityType: { name: 'citizen' },
    })
  })

  it('asked for an arkivmelding process get DPV, as in the reference', () => {
    expect(services('01819040180', { process: PROCESS.administrasjon })).toEqual([
      `DPV ${PROCESS.administrasjon}`,
    ])
  })
})

describe('health (DPH)', () => {
  it('answers her-id and fastlege-for with the beta header, and no records without it', () => {
    const withBeta = ask('her-id:42', { beta: true })
    expect(withBeta.infoRecord).toEqual({
      identifier: 'her-id:42',
      parentHerId: 41,
      parentOrganizationName: 'KONTOR',
      herId: 42,
      organizationName: 'LEGE',
      organizationNumber: '910071696',
      patient: null,
      entityType: { name: 'NorskHelsenett' },
    })
    expect(withBeta.serviceRecords).toMatchObject([
      { organisationNumber: '910071696', herId: 42, patient: null, service: { identifier: 'DPH' } },
    ])
    expect(records('her-id:42')).toEqual([])
    const [gp] = records('fastlege-for:01819040180', { beta: true, process: PROCESS.helse })
    expect(gp!.patient).toEqual({
      fnr: '01819040180',
      firstName: 'Ola',
      middleName: null,
      lastName: 'Digital',
    })
    expect(failure(() => ask('her-id:42', { process: PROCESS.helse })).status).toBe(404)
    expect(failure(() => ask('her-id:43')).status).toBe(404)
  })
})
