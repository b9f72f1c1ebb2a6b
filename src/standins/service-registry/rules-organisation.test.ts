import { beforeAll, describe, expect, it } from 'vitest'
import type { Catalogue } from './catalog.js'
import type { Json } from './records.js'
import { lookupCertificate, lookupInfo } from './rules.js'
import { failure, lookups, PROCESS, rulesCatalogue, testCertificatePem } from './test-support.js'

const DPV_URL = 'https://tt02.altinn.no/ServiceEngineExternal/CorrespondenceAgencyExternal.svc'
const _DPI_URL = 'https://qaoffentlig.meldingsformidler.digipost.no/api/ebms'
let cert: string
let cat: Catalogue

beforeAll(async () => {
  cert = testCertificatePem()
  cat = await rulesCatalogue()
})

const { ask, records, services } = lookups(() => cat)

describe('organisations', () => {
  it('get DPO where registered, DPV on the other arkivmelding processes, DPE and avtalt where registered', () => {
    const got = services('910075918')
    expect(got[0]).toBe(`DPO ${PROCESS.administrasjon}`)
    expect(got.filter((s) => s.startsWith('DPV'))).toHaveLength(10)
    expect(got.slice(-2)).toEqual([`DPE ${PROCESS.innsynskrav}`, `DPO ${PROCESS.avtalt}`])
  })

  it('write a DPO record with the certificate and the DPO codes', () => {
    expect(records('910075918', { process: PROCESS.administrasjon })).toEqual([
      {
        organisationNumber: '910075918',
        pemCertificate: cert,
        process: PROCESS.administrasjon,
        documentTypes: ['urn:no:difi:arkivmelding:xsd::arkivmelding'],
        service: {
          identifier: 'DPO',
          endpointUrl: 'https://tt02.altinn.no',
          serviceCode: '4192',
          serviceEditionCode: '270815',
          securityLevel: null,
          resource: null,
        },
      },
    ])
  })

  it('write DPE with the queue suffix as endpointUrl', () => {
    const [dpe] = records('910075918', { process: PROCESS.innsynskrav })
    expect(dpe!.service).toEqual({
      identifier: 'DPE',
      endpointUrl: 'innsyn',
      serviceCode: null,
      serviceEditionCode: null,
      securityLevel: null,
      resource: null,
    })
  })

  it('give no DPV fallback at level 4 to an organisation registered for DPO', () => {
    expect(failure(() => ask('910075918', { process: PROCESS.planBygg, securityLevel: 4 }))).toEqual({
      status: 404,
      body: {
        kind: 'error',
        code: '',
        description: `Process ${PROCESS.planBygg} not found for receiver 910075918`,
      },
    })
    expect(services('910075918', { securityLevel: 4 }).some((s) => s.startsWith('DPV'))).toBe(false)
  })

  it('get DPF at the level asked for or their highest, and a 400 when level 4 cannot be met', () => {
    const [dpf] = records('910229028', { process: PROCESS.administrasjon })
    expect(dpf!.service).toMatchObject({ identifier: 'DPF', securityLevel: 3 })
    expect(dpf!.pemCertificate).toBe(cert)
    expect(
      records('910229028', { securityLevel: 3 }).every((r) => (r.service as Json).identifier === 'DPF'),
    ).toBe(true)
    expect(failure(() => ask('910229028', { securityLevel: 4 }))).toEqual({
      status: 400,
      body: {
        kind: 'error',
        code: '',
        description: "Organization '910229028' can not receive messages with security level '4'",
      },
    })
    // as the reference: any other level it lacks falls back to DPV
    expect(services('910229028', { process: PROCESS.administrasjon, securityLevel: 2 })).toEqual([
      `DPV ${PROCESS.administrasjon}`,
    ])
  })

  it('get DPV with the process’s Altinn codes, unless their DPV entry says otherwise', () => {
    const [dpv] = records('910094092', { process: PROCESS.taushetsbelagt })
    expect(dpv).toEqual({
      organisationNumber: '910094092',
      pemCertificate: null,
      process: PROCESS.taushetsbelagt,
      documentTypes: ['urn:no:difi:arkivmelding:xsd::arkivmelding'],
      service: {
        identifier: 'DPV',
        endpointUrl: DPV_URL,
        serviceCode: '4255',
        serviceEditionCode: null,
        securityLevel: null,
        resource: 'own-resource',
      },
    })
    const [plain] = records('910077473', { process: PROCESS.planBygg })
    expect(plain!.service).toMatchObject({
      serviceCode: '4255',
      serviceEditionCode: '1',
      resource: 'eformidling-dpv-administrasjon',
    })
  })

  it('have their overrides applied to the records the rules make', () => {
    const [avtalt] = records('910075918', { process: PROCESS.avtalt })
    expect(avtalt!.pemCertificate).toBeNull()
    expect(avtalt!.service).toMatchObject({
      identifier: 'DPO',
      endpointUrl: 'https://other',
      serviceCode: '4192',
    })
  })

  it('answer written-out records as they stand', () => {
    expect(records('910076787')).toEqual([
      { process: PROCESS.avtalt, documentTypes: ['x'], service: { identifier: 'STRANGE' }, extra: 1 },
    ])
    expect(failure(() => ask('910076787', { process: PROCESS.administrasjon })).status).toBe(404)
  })

  it('get nothing on processes they are not registered for (eInnsyn, avtalt) or cannot have (digital post)', () => {
    for (const process of [PROCESS.journalpost, PROCESS.arkivmeldingResponse, PROCESS.info]) {
      expect(failure(() => ask('910077473', { process })).status).toBe(404)
    }
  })

  it('are found by 0192:<orgnr> too, and not by other schemes', () => {
    expect((ask('0192:910075918').infoRecord as Json).identifier).toBe('910075918')
    expect(failure(() => ask('0088:910075918'))).toMatchObject({ status: 404 })
    // efm-common's ICD list lacks 9908: not an identifier at all
    expect(failure(() => ask('9908:910075918'))).toMatchObject({ status: 400 })
  })
})

describe('identifiers', () => {
  it('that parse as nothing are 400, unknown ones 404', () => {
    for (const id of ['abc', '12345', '01819040181', 'her-id:-1', '']) {
      expect(failure(() => ask(id))).toEqual({ status: 400, body: { kind: 'spring' } })
    }
    expect(failure(() => ask('974720760'))).toEqual({
      status: 404,
      body: { kind: 'error', code: '', description: "Entity with identifier '974720760' not found." },
    })
    expect(failure(() => lookupInfo(cat, '974720760'))).toEqual({ status: 404, body: { kind: 'empty' } })
  })

  it('are looked up first: an unknown process for a known receiver is 404 naming both', () => {
    expect(failure(() => ask('910075918', { process: 'urn:nope' }))).toEqual({
      status: 404,
      body: { kind: 'error', code: '', description: 'Process urn:nope not found for receiver 910075918' },
    })
  })
})

describe('/virksert', () => {
  it('gives the organisation’s certificate, or the reference’s 404', () => {
    expect(lookupCertificate(cat, '910075918')).toBe(cert)
    expect(failure(() => lookupCertificate(cat, '910094092'))).toEqual({
      status: 404,
      body: { kind: 'error', code: '', description: 'Unable to find DPO certificate for: 910094092' },
    })
  })
})
