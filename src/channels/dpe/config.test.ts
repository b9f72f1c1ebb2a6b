import { describe, expect, it } from 'vitest'
import { load, loadError, MINIMAL_ENV } from '../../config/test-helpers.js'
import { serviceBusConfigErrors, serviceBusStartupWarnings } from './config.js'

const ON = 'difi.move.feature.enableDPE=true'

describe('the serviceBus configuration', () => {
  it("reads the reference's keys with its defaults, the key from the ServiceRegistry", () => {
    const config = load({ file: ON })
    expect(config.serviceBus).toEqual({
      baseUrl: 'efm-dpe-qa.servicebus.windows.net',
      useHttps: true,
      sasKeyName: 'MoveDPE-pilotPolicy',
      sasToken: null,
      keyFromServiceRegistry: true,
      mode: 'innsyn',
      receiptQueue: null,
      readMaxMessages: 50,
      pollingRateMs: 20_000,
      connectTimeoutMs: 15_000,
      batchRead: false,
      maskinportenAudience: 'https://test.maskinporten.no/',
      maskinportenUrl: 'https://test.maskinporten.no/token',
    })
    expect(config.uploadSizeLimit.DPE).toBe(2 * 1024 * 1024)
    expect(serviceBusConfigErrors(config)).toEqual([])
    expect(serviceBusStartupWarnings(config)).toEqual([])
  })

  it('follows the production and dev profiles', () => {
    const prod = load({ file: 'spring.profiles.active=production' })
    expect(prod.features.enabled.DPE).toBe(true)
    expect(prod.serviceBus).toMatchObject({
      baseUrl: 'efm-dpe-prod.servicebus.windows.net',
      sasKeyName: 'MoveDPE-prodPolicy',
    })
    // a production start with the defaults needs nothing more: the key comes from the ServiceRegistry
    expect(serviceBusConfigErrors(prod)).toEqual([])
    expect(load({ file: 'spring.profiles.active=dev' }).serviceBus.pollingRateMs).toBe(5000)
  })

  it('binds the spellings of the file and the environment', () => {
    const file = [
      ON,
      'difi.move.nextmove.service-bus.base-url=localhost:9095/dpe/',
      'difi.move.nextmove.serviceBus.useHttps=false',
      'difi.move.nextmove.serviceBus.mode=DATA',
      'difi.move.nextmove.serviceBus.readMaxMessages=5',
    ].join('\n')
    const { serviceBus } = load({
      file,
      env: {
        ...MINIMAL_ENV,
        DIFI_MOVE_OIDC_ENABLE: 'false',
        DIFI_MOVE_NEXTMOVE_SERVICEBUS_SASTOKEN: 'hemmelig-nøkkel',
        DIFI_MOVE_NEXTMOVE_SERVICEBUS_RECEIPTQUEUE: 'meeting',
        DIFI_MOVE_NEXTMOVE_SERVICEBUS_CONNECTTIMEOUT: '3000',
      },
    })
    expect(serviceBus).toMatchObject({
      baseUrl: 'localhost:9095/dpe',
      useHttps: false,
      // lower-cased, unlike the reference (src/channels/dpe/queues.ts)
      mode: 'data',
      readMaxMessages: 5,
      sasToken: 'hemmelig-nøkkel',
      keyFromServiceRegistry: false,
      receiptQueue: 'meeting',
      connectTimeoutMs: 3000,
    })
  })

  it('refuses a mode other than innsyn, data or meeting while loading', () => {
    expect(loadError({ file: 'difi.move.nextmove.serviceBus.mode=journal' }).message).toContain(
      'difi.move.nextmove.serviceBus.mode must be innsyn, data or meeting, got "journal"',
    )
  })

  it('names each problem that stops a start with DPE', () => {
    const errors = serviceBusConfigErrors(
      load({
        file: [
          ON,
          'difi.move.oidc.enable=false',
          'difi.move.nextmove.serviceBus.baseUrl=https://efm-dpe-qa.servicebus.windows.net',
          'difi.move.nextmove.serviceBus.receiptQueue=data/../x',
        ].join('\n'),
      }),
    )
    expect(errors).toEqual([
      expect.stringMatching(
        /^difi\.move\.nextmove\.serviceBus\.baseUrl must be a host without the scheme \(difi\.move\.nextmove\.serviceBus\.useHttps/,
      ),
      expect.stringContaining(
        'difi.move.oidc.enable is false, so the SAS key is not fetched from the ServiceRegistry, but ' +
          'difi.move.nextmove.serviceBus.sasToken is empty',
      ),
      'difi.move.nextmove.serviceBus.receiptQueue must be a queue suffix such as data or innsyn (letters, ' +
        'digits, -, _ or .), got "data/../x"',
    ])
    const odd = serviceBusConfigErrors(
      load({ file: `${ON}\ndifi.move.nextmove.serviceBus.baseUrl=host?x=1` }),
    )
    expect(odd).toEqual([expect.stringMatching(/baseUrl must be a host, with a port and a path if needed/)])
  })

  it('warns, without stopping the start, that batchRead=true is read over REST', () => {
    const config = load({ file: `${ON}\ndifi.move.nextmove.serviceBus.batchRead=true` })
    expect(serviceBusConfigErrors(config)).toEqual([])
    expect(serviceBusStartupWarnings(config)).toEqual([
      {
        setting: 'difi.move.nextmove.serviceBus.batchRead',
        message: expect.stringContaining('this integration point reads over REST'),
      },
    ])
  })
})
