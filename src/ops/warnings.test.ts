import { afterAll, describe, expect, it } from 'vitest'
import { load } from '../config/test-helpers.js'
import { makeIdentity, makeTempDir } from '../packaging/test-support.js'
import { startupErrors, startupWarnings } from './warnings.js'

const tmp = makeTempDir('warnings-')
afterAll(() => tmp.cleanup())

const SECURE = {
  DIFI_MOVE_ORG_NUMBER: '910075918',
  DIFI_SECURITY_USER_PASSWORD: 'secret',
  DIFI_SSL_KEYSTORE: '/etc/ip/tls.p12',
}
const sqlite = { kind: 'sqlite' as const, path: '/var/lib/ip/integrasjonspunkt.sqlite' }
const postgres = {
  kind: 'postgres' as const,
  connectionString: 'postgres://db/ip',
  schema: null,
  prepareThreshold: 5,
}
const now = new Date()

function settings(w: ReturnType<typeof startupWarnings>) {
  return w.map((x) => x.setting)
}

describe('warnings at start', () => {
  it('are none for a secure configuration', () => {
    const config = load({ env: SECURE })
    expect(startupWarnings({ config, datasource: postgres, keys: null, now })).toEqual([])
    // SQLite is fine outside the production profile
    expect(startupWarnings({ config, datasource: sqlite, keys: null, now })).toEqual([])
  })

  it('name authentication off and TLS off, each saying what to set', () => {
    const config = load({ env: { ...SECURE, DIFI_SECURITY_ENABLE: 'false', DIFI_SSL_ENABLED: 'false' } })
    const w = startupWarnings({ config, datasource: postgres, keys: null, now })
    expect(settings(w)).toEqual(['difi.security.enable', 'difi.ssl.enabled'])
    expect(w[0]!.message).toMatch(/set difi\.security\.enable=true and difi\.security\.user\.password/)
    expect(w[1]!.message).toMatch(/set difi\.ssl\.enabled=true with difi\.ssl\.key-store/)
  })

  it('name an embedded SQLite database under the production profile', () => {
    // DPE off here: the production profile's default of DPE on has a warning of its own (below)
    const env = {
      ...SECURE,
      SPRING_PROFILES_ACTIVE: 'staging,production',
      DIFI_MOVE_FEATURE_ENABLEDPE: 'false',
    }
    const config = load({ env })
    const w = startupWarnings({ config, datasource: sqlite, keys: null, now })
    expect(settings(w)).toEqual(['difi.datasource.url'])
    expect(w[0]!.message).toContain(sqlite.path)
    expect(startupWarnings({ config, datasource: postgres, keys: null, now })).toEqual([])
  })

  it("name a service without a channel that a profile enabled; the operator's own enableX stops the start", () => {
    const config = load({ env: { ...SECURE, DIFI_MOVE_FEATURE_ENABLEDPH: 'true' } })
    expect(settings(startupWarnings({ config, datasource: postgres, keys: null, now }))).toEqual([
      'difi.move.feature.enableDPH',
    ])
    expect(startupErrors(config)).toEqual([
      expect.stringMatching(
        /^difi\.move\.feature\.enableDPH=true, but this integration point has no channel for DPH/,
      ),
    ])
    // a profile's default (none lacks a channel today: production's DPE has one) only warns
    const base = load({ env: SECURE })
    const defaulted = {
      ...base,
      features: { ...base.features, enabled: { ...base.features.enabled, DPH: true } },
    }
    const w = startupWarnings({ config: defaulted, datasource: postgres, keys: null, now })
    expect(settings(w)).toEqual(['difi.move.feature.enableDPH'])
    expect(w[0]!.message).toMatch(
      /^DPH is enabled \(difi\.move\.feature\.enableDPH\) but this integration point has no transport/,
    )
    expect(startupErrors(defaulted)).toEqual([])
    // the production profile's DPE has its channel, and its defaults need nothing more
    const production = load({ env: { ...SECURE, SPRING_PROFILES_ACTIVE: 'production' } })
    expect(production.features.enabled.DPE).toBe(true)
    expect(settings(startupWarnings({ config: production, datasource: postgres, keys: null, now }))).toEqual(
      [],
    )
    expect(startupErrors(production)).toEqual([])
  })

  it('name a business certificate that expires within 30 days, not one that lasts longer', () => {
    const config = load({ env: SECURE })
    const soon = makeIdentity(tmp.dir, 'soon', { days: 10, bits: 1024 })
    const later = makeIdentity(tmp.dir, 'later', { days: 365, bits: 1024 })
    const keys = (id: typeof soon) => ({ keyPem: id.keyPem, certPem: id.certPem, chainPem: [] })
    const w = startupWarnings({ config, datasource: postgres, keys: keys(soon), now })
    expect(settings(w)).toEqual(['difi.move.org.keystore.path'])
    expect(w[0]!.message).toMatch(/expires in (9|10) days/)
    expect(startupWarnings({ config, datasource: postgres, keys: keys(later), now })).toEqual([])
  })
})
