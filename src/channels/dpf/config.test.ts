import { describe, expect, it } from 'vitest'
import { load, loadError, MINIMAL_ENV } from '../../config/test-helpers.js'
import { fiksConfigErrors } from './config.js'

const KONTO = '7f1c6e2a-3d6b-4a8e-9a51-0c1d2e3f4a5b'
const REST = [
  'difi.move.feature.enableDPF=true',
  `difi.move.fiks.ut.rest.kontoid=${KONTO}`,
  'difi.move.fiks.ut.rest.integrasjon-id=3b0e2f4c-1111-4222-8333-944455556666',
  'difi.move.fiks.ut.rest.integrasjon-passord=hemmelig',
  'difi.move.fiks.inn.username=mottaker',
  'difi.move.fiks.inn.password=passord',
].join('\n')

describe('the fiks configuration', () => {
  it("reads the reference's keys with its defaults, REST by default", () => {
    const { fiks } = load({ file: REST })
    expect(fiks).toEqual({
      type: 'rest',
      kryptert: true,
      ut: {
        endpointUrl: 'https://test.svarut.ks.no',
        kontoId: KONTO,
        integrasjonId: '3b0e2f4c-1111-4222-8333-944455556666',
        integrasjonPassord: 'hemmelig',
        konteringskode: null,
        kunDigitalLevering: false,
        ekskluderesFraPrint: [],
        scopes: 'ks:fiks',
        maskinportenAudience: 'https://test.maskinporten.no/',
        maskinportenUrl: 'https://test.maskinporten.no/token',
        requestTimeoutMs: 960_000,
        statusPollingRateMs: 60_000,
      },
      inn: {
        enable: true,
        baseUrl: 'https://test.svarut.ks.no/tjenester/svarinn',
        username: 'mottaker',
        password: 'passord',
        process: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
        documentType: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
        orgnr: '910075918',
        fallbackSenderOrgNr: '999999999',
        connectTimeoutMs: 10_000,
        readTimeoutMs: 30_000,
        pollingRateMs: 900_000,
      },
    })
    expect(fiksConfigErrors(load({ file: REST }))).toEqual([])
  })

  it('follows the production profile and the host for the REST calls', () => {
    const { fiks } = load({ file: `${REST}\nspring.profiles.active=production` })
    expect(fiks.ut.endpointUrl).toBe('https://svarut.ks.no')
    expect(fiks.inn.baseUrl).toBe('https://svarut.ks.no/tjenester/svarinn')
    const own = load({ file: `${REST}\ndifi.move.fiks.ut.endpointUrl=http://localhost:9097/` }).fiks.ut
    expect(own.endpointUrl).toBe('http://localhost:9097')
  })

  it('binds the environment spellings, the credentials included', () => {
    const { fiks } = load({
      env: {
        ...MINIMAL_ENV,
        DIFI_MOVE_FIKS_UT_REST_KONTOID: KONTO,
        DIFI_MOVE_FIKS_UT_REST_INTEGRASJONPASSORD: 'fra-miljøet',
        DIFI_MOVE_FIKS_UT_REST_MASKINPORTEN_TOKENURI: 'http://127.0.0.1:9098/token',
        DIFI_MOVE_FIKS_INN_PASSWORD: 'svarinn',
        DIFI_MOVE_FIKS_POLLINGRATE: '5000',
      },
    })
    expect(fiks.ut).toMatchObject({
      kontoId: KONTO,
      integrasjonPassord: 'fra-miljøet',
      maskinportenUrl: 'http://127.0.0.1:9098/token',
    })
    expect(fiks.inn).toMatchObject({ password: 'svarinn', pollingRateMs: 5000 })
  })

  it('keeps the print exclusions as bare lower-case extensions', () => {
    const { fiks } = load({ file: `${REST}\ndifi.move.fiks.ut.ekskluderes-fra-print=DOCX,.odt,*` })
    expect(fiks.ut.ekskluderesFraPrint).toEqual(['docx', 'odt', '*'])
  })

  it('refuses ws at start, saying that SOAP is retired', () => {
    const errors = fiksConfigErrors(load({ file: `${REST}\ndifi.move.fiks.ut.type=ws` }))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^difi\.move\.fiks\.ut\.type is ws, but SvarUt's SOAP API .* is retired/)
    expect(errors[0]).toContain('set difi.move.fiks.ut.type=rest')
  })

  it('refuses a type that is neither rest nor ws while loading', () => {
    expect(loadError({ file: 'difi.move.fiks.ut.type=soap' }).message).toContain(
      'difi.move.fiks.ut.type must be rest (SvarUt REST v3), got "soap"',
    )
  })

  it('names each missing or malformed credential', () => {
    const errors = fiksConfigErrors(
      load({
        file: [
          'difi.move.feature.enableDPF=true',
          'difi.move.fiks.ut.rest.kontoid=konto-1',
          'difi.move.fiks.ut.konteringsKode=a b',
          'difi.move.fiks.inn.fallback-sender-org-nr=123',
        ].join('\n'),
      }),
    )
    expect(errors).toEqual([
      'difi.move.fiks.ut.rest.kontoid must be a UUID, got "konto-1"',
      expect.stringContaining('difi.move.fiks.ut.rest.integrasjon-id or integrasjon-passord is empty'),
      expect.stringContaining('difi.move.fiks.ut.konteringsKode must be at most 20 letters'),
      expect.stringContaining(
        'difi.move.fiks.inn.enable is true but difi.move.fiks.inn.username or password',
      ),
      'difi.move.fiks.inn.fallback-sender-org-nr must be 9 digits, got "123"',
    ])
  })

  it('asks for no SvarInn credentials when SvarInn is off', () => {
    const file = `${REST.replace(/difi\.move\.fiks\.inn\.\w+=.*\n?/g, '')}\ndifi.move.fiks.inn.enable=false`
    expect(fiksConfigErrors(load({ file }))).toEqual([])
    const missing = fiksConfigErrors(load({ file: 'difi.move.feature.enableDPF=true' }))
    expect(missing[0]).toContain('difi.move.fiks.ut.rest.kontoid is empty')
  })
})
