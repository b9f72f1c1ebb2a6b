import { describe, expect, it } from 'vitest'
import { load, loadError, MINIMAL_ENV } from '../../config/test-helpers.js'
import type { Config } from '../../config/types.js'
import { createKanalRoundRobin, dpiChannels, dpiConfigErrors } from './config.js'

const ON = 'difi.move.feature.enableDPI=true'

describe('the dpi configuration', () => {
  it("reads the reference's keys with its defaults", () => {
    const config = load({ file: ON })
    expect(config.dpi).toEqual({
      uri: 'https://sandbox1.ediex.no/api/v2/dpi',
      c2Type: 'web',
      mpcId: 'no_difi_move_integrasjonspunkt',
      mpcConcurrency: 1,
      mpcIdListe: [],
      pageSize: 100,
      pollingRateMs: 10_000,
      avsenderidentifikatorListe: [],
      pollWithoutAvsenderidentifikator: true,
      timeouts: { connectMs: 5_000, readMs: 60_000, writeMs: 60_000 },
      certificateMode: 'TEST',
      krrPrintUrl: 'https://test.kontaktregisteret.no/rest/v2/printSertifikat',
      scopes: 'digitalpostinnbygger:send',
      language: 'NO',
      maskinportenAudience: 'https://test.maskinporten.no/',
      maskinportenUrl: 'https://test.maskinporten.no/token',
      statusPollingRateMs: 60_000,
    })
    expect(dpiConfigErrors(config)).toEqual([])
  })

  it('follows the profiles', () => {
    const prod = load({ file: `${ON}\nspring.profiles.active=production` }).dpi
    expect(prod).toMatchObject({
      uri: 'https://edi.edigard.com/api/v2/dpi',
      mpcId: 'no.difi.move.integrasjonspunkt',
      certificateMode: 'PRODUCTION',
      krrPrintUrl: 'https://kontaktregisteret.no/rest/v2/printSertifikat',
      maskinportenAudience: 'https://maskinporten.no/',
      maskinportenUrl: 'https://maskinporten.no/token',
    })
    expect(load({ file: `${ON}\nspring.profiles.active=staging` }).dpi.mpcId).toBe(
      'no_difi_move_integrasjonspunkt-staging',
    )
  })

  it('reads lists, timeouts and the URL without its trailing slash, from the file and the environment', () => {
    const file = [
      ON,
      'difi.move.dpi.uri=http://localhost:9096/dpi/',
      'difi.move.dpi.mpcIdListe=kanal.a, kanal-b',
      'difi.move.dpi.avsenderidentifikatorListe[0]=avd-1',
      'difi.move.dpi.avsenderidentifikatorListe[1]=avd-2',
      'difi.move.dpi.timeout.read=1500',
      'difi.move.dpi.oidc.scopes=digitalpostinnbygger:send,global/kontaktinformasjon.read',
      'difi.move.dpi.certificate.mode=production',
      'difi.move.dpi.c2-type=WEB',
    ].join('\n')
    const dpi = load({ file }).dpi
    expect(dpi).toMatchObject({
      uri: 'http://localhost:9096/dpi',
      c2Type: 'web',
      mpcIdListe: ['kanal.a', 'kanal-b'],
      avsenderidentifikatorListe: ['avd-1', 'avd-2'],
      timeouts: { connectMs: 5_000, readMs: 1_500, writeMs: 60_000 },
      scopes: 'digitalpostinnbygger:send global/kontaktinformasjon.read',
      certificateMode: 'PRODUCTION',
    })
    const env = load({
      env: {
        ...MINIMAL_ENV,
        DIFI_MOVE_DPI_MPCCONCURRENCY: '3',
        DIFI_MOVE_DPI_POLLWITHOUTAVSENDERIDENTIFIKATOR: 'false',
        DIFI_MOVE_DPI_STATUSPOLLINGRATE: '5000',
        DIFI_MOVE_DPI_KRRPRINTURL: 'http://127.0.0.1:9096/krr/print',
        DIFI_MOVE_DPI_MPCIDLISTE: 'en,to',
        DIFI_MOVE_DPI_C2TYPE: 'file',
      },
    }).dpi
    expect(env).toMatchObject({
      mpcConcurrency: 3,
      pollWithoutAvsenderidentifikator: false,
      statusPollingRateMs: 5_000,
      krrPrintUrl: 'http://127.0.0.1:9096/krr/print',
      mpcIdListe: ['en', 'to'],
      c2Type: 'file',
    })
  })

  it('has no Maskinporten URL when difi.move.oidc.enable is false', () => {
    expect(load({ file: `${ON}\ndifi.move.oidc.enable=false` }).dpi.maskinportenUrl).toBeNull()
  })

  it('refuses values that cannot be read, naming the property', () => {
    const err = loadError({
      file: [
        'difi.move.dpi.c2-type=ftp',
        'difi.move.dpi.timeout.connect=soon',
        'difi.move.dpi.krr-print-url=not a url',
        'difi.move.dpi.avsenderidentifikatorListe=' + 'x'.repeat(101),
      ].join('\n'),
    })
    const keys = err.issues.map((i) => i.key)
    expect(keys).toEqual(
      expect.arrayContaining([
        'difi.move.dpi.c2-type',
        'difi.move.dpi.timeout.connect',
        'difi.move.dpi.krr-print-url',
        'difi.move.dpi.avsenderidentifikatorListe',
      ]),
    )
    expect(err.issues.find((i) => i.key === 'difi.move.dpi.c2-type')?.message).toMatch(/must be web/)
  })
})

describe('dpiConfigErrors (when DPI is enabled)', () => {
  const errors = (file: string) => dpiConfigErrors(load({ file: `${ON}\n${file}` }))

  it('refuses c2-type=file, saying what to do', () => {
    expect(errors('difi.move.dpi.c2-type=file')).toEqual([
      expect.stringMatching(/^difi\.move\.dpi\.c2-type=file is not supported.*c2-type=web/),
    ])
  })

  it('needs Maskinporten', () => {
    expect(errors('difi.move.oidc.enable=false')).toEqual([
      expect.stringMatching(/difi\.move\.oidc\.enable is false: the access point needs a Maskinporten token/),
    ])
  })

  it('needs at least one channel of characters the access point takes, and a two-letter language', () => {
    expect(errors('difi.move.dpi.mpcConcurrency=0')).toEqual([
      expect.stringMatching(/^difi\.move\.dpi\.mpcConcurrency must be 1 or more, got 0/),
    ])
    expect(errors('difi.move.dpi.mpcId=min kanal')).toEqual([
      expect.stringMatching(/^difi\.move\.dpi\.mpcId must name channels .*"min kanal"/),
    ])
    expect(errors('difi.move.dpi.mpcIdListe=ok.1,ikke/ok')).toEqual([
      expect.stringMatching(/^difi\.move\.dpi\.mpcIdListe must name channels .*"ikke\/ok"/),
    ])
    expect(errors('difi.move.dpi.language=NOR')).toEqual([
      expect.stringMatching(/^difi\.move\.dpi\.language must be a two-letter language code/),
    ])
  })
})

describe('channel names', () => {
  const dpi = (over: Partial<Config['dpi']>): Config['dpi'] => ({ ...load({ file: ON }).dpi, ...over })

  it("keeps the reference's 30-character default as it is", () => {
    const names = dpiChannels(dpi({}))
    expect(names).toEqual({
      send: ['no_difi_move_integrasjonspunkt'],
      poll: ['no_difi_move_integrasjonspunkt'],
    })
    expect(names.send[0]).toHaveLength(30)
  })

  it('turns dots into underscores (the production default)', () => {
    expect(dpiChannels(dpi({ mpcId: 'no.difi.move.integrasjonspunkt' })).send).toEqual([
      'no_difi_move_integrasjonspunkt',
    ])
  })

  it('numbers the channels from 0 with mpcConcurrency above 1', () => {
    expect(dpiChannels(dpi({ mpcId: 'a.b', mpcConcurrency: 3 }))).toEqual({
      send: ['a_b-0', 'a_b-1', 'a_b-2'],
      poll: ['a_b-0', 'a_b-1', 'a_b-2'],
    })
  })

  it('takes mpcIdListe instead, and polls the same channels (ours: the reference polls only mpcId)', () => {
    expect(dpiChannels(dpi({ mpcIdListe: ['x.1', 'y', 'x_1'], mpcConcurrency: 4 }))).toEqual({
      send: ['x_1', 'y'],
      poll: ['x_1', 'y'],
    })
  })

  it('are taken in turn', () => {
    const next = createKanalRoundRobin(['a', 'b', 'c'])
    expect(Array.from({ length: 7 }, next)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a'])
    expect(() => createKanalRoundRobin([])).toThrow(/at least one channel/)
  })
})
