// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring ${placeholder} syntax is the subject here
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './load.js'
import { load, loadError, MINIMAL_ENV, tempDir, writeFile } from './test-helpers.js'

describe('sources and precedence', () => {
  it('reads the properties file in the working directory', () => {
    const config = load({
      env: {},
      file: 'difi.move.org.number=910075918\ndifi.security.enable=false\ndifi.ssl.enabled=false\n',
    })
    expect(config.org.number).toBe('910075918')
    expect(config.security.enable).toBe(false)
  })

  it('puts overrides above the environment, the environment above the file, the file above defaults', () => {
    const file =
      'server.port=1001\ndifi.move.nextmove.lockTimeoutMinutes=11\ndifi.move.nextmove.filedir=from-file\n'
    const env = { ...MINIMAL_ENV, SERVER_PORT: '1002', DIFI_MOVE_NEXTMOVE_LOCKTIMEOUTMINUTES: '12' }
    const config = load({ env, file, overrides: { 'server.port': '1003' } })
    expect(config.server.port).toBe(1003)
    expect(config.nextmove.lockTimeoutMinutes).toBe(12)
    expect(config.nextmove.filedir).toMatch(/from-file$/)
    expect(config.nextmove.defaultTtlHours).toBe(24)
  })

  it('compares keys in relaxed form: kebab, camel and underscore spellings are one property', () => {
    expect(load({ file: 'difi.move.nextmove.lock-timeout-minutes=7' }).nextmove.lockTimeoutMinutes).toBe(7)
    expect(load({ file: 'difi.move.nextmove.lock_timeout_minutes=8' }).nextmove.lockTimeoutMinutes).toBe(8)
    expect(load({ file: 'difi.move.feature.enable-dpo=true' }).features.enabled.DPO).toBe(true)
    expect(load({ file: 'difi.move.serviceregistry-endpoint=http://sr:9099' }).serviceRegistry.endpoint).toBe(
      'http://sr:9099',
    )
  })

  it('binds environment variables as Spring Boot does, standard and legacy spellings', () => {
    const env = {
      ...MINIMAL_ENV,
      DIFI_SSL_ENABLED: 'true',
      DIFI_SSL_KEY_STORE: '/etc/ip/tls.p12',
      DIFI_MOVE_NEXTMOVE_LOCK_TIMEOUT_MINUTES: '9',
      DIFI_MOVE_SERVICEREGISTRY_ENDPOINT: 'http://sr:9099/',
      DIFI_MOVE_FEATURE_ENABLEDPV: 'true',
      DIFI_MOVE_DPH_HERIDS_0: '8143154',
      DIFI_MOVE_DPH_HERIDS_1: '8143155',
    }
    const config = load({ env })
    expect(config.ssl.keyStore).toBe('/etc/ip/tls.p12')
    expect(config.nextmove.lockTimeoutMinutes).toBe(9)
    expect(config.serviceRegistry.endpoint).toBe('http://sr:9099')
    expect(config.features.enabled.DPV).toBe(true)
    expect(config.dph.herIds).toEqual(['8143154', '8143155'])
  })

  it('prefers the standard spelling and a dotted name when variables collide', () => {
    const env = {
      ...MINIMAL_ENV,
      DIFI_MOVE_NEXTMOVE_LOCK_TIMEOUT_MINUTES: '1',
      DIFI_MOVE_NEXTMOVE_LOCKTIMEOUTMINUTES: '2',
    }
    expect(load({ env }).nextmove.lockTimeoutMinutes).toBe(2)
    expect(
      load({ env: { ...env, 'difi.move.nextmove.lockTimeoutMinutes': '3' } }).nextmove.lockTimeoutMinutes,
    ).toBe(3)
  })

  it('binds list items in the legacy spelling too', () => {
    const env = { ...MINIMAL_ENV, DIFI_MOVE_DPH_HER_IDS_0: '11', DIFI_MOVE_DPH_HER_IDS_1: '22' }
    expect(load({ env }).dph.herIds).toEqual(['11', '22'])
    const statuses = { ...MINIMAL_ENV, DIFI_MOVE_NEXTMOVE_STATUS_SERVICES: 'DPV' }
    expect(load({ env: statuses }).nextmove.statusServices).toEqual(['DPV'])
  })

  it('reads lists comma-separated or indexed, from the highest source only', () => {
    expect(load({ file: 'difi.move.dph.her-ids=1, 2,3' }).dph.herIds).toEqual(['1', '2', '3'])
    expect(load({ file: 'difi.move.dph.her-ids[1]=22\ndifi.move.dph.her-ids[0]=11' }).dph.herIds).toEqual([
      '11',
      '22',
    ])
    const env = { ...MINIMAL_ENV, DIFI_MOVE_DPH_HERIDS_0: '9' }
    expect(load({ env, file: 'difi.move.dph.her-ids[0]=1\ndifi.move.dph.her-ids[1]=2' }).dph.herIds).toEqual([
      '9',
    ])
    expect(
      load({ file: 'difi.move.feature.statusQueueIncludes=dpo,DPV' }).features.statusQueueIncludes,
    ).toEqual(['DPO', 'DPV'])
    expect(load({ file: 'difi.move.nextmove.status-services=' }).nextmove.statusServices).toEqual([])
  })

  it('resolves placeholders against every source, defaults included', () => {
    const file = [
      'difi.move.nextmove.default-ttl-hours=48',
      'difi.move.dpo.default-ttl-hours=12',
      'difi.move.serviceregistryEndpoint=http://${SR_HOST}:${SR_PORT:9099}/',
      'difi.security.user.password=${MY_SECRET}',
    ].join('\n')
    const config = load({ env: { ...MINIMAL_ENV, SR_HOST: 'sr.local', MY_SECRET: 'from-env' }, file })
    expect(config.ttlHours).toEqual({ DPO: 12, DPV: 48, DPI: 48, DPF: 48, DPE: 48, DPH: 48 })
    expect(config.serviceRegistry.endpoint).toBe('http://sr.local:9099')
    expect(config.serviceRegistry.jwkUrl).toBe('http://sr.local:9099/jwk')
    expect(config.security.password).toBe('secret')
    expect(
      load({ env: { ...MINIMAL_ENV, DIFI_SECURITY_USER_PASSWORD: '${MY_SECRET}', MY_SECRET: 'x' } }).security
        .password,
    ).toBe('x')
  })

  it('honours the Spring keys the reference maps its difi.* keys onto', () => {
    const file =
      'server.ssl.enabled=true\nserver.ssl.key-store=tls.p12\nspring.datasource.url=postgres://db/ip\nspring.security.user.name=api'
    const { DIFI_SSL_ENABLED: _, ...env } = MINIMAL_ENV
    const config = load({ env, file })
    expect(config.ssl.enabled).toBe(true)
    expect(config.ssl.keyStore).toMatch(/tls\.p12$/)
    expect(config.datasource.url).toBe('postgres://db/ip')
    expect(config.security.username).toBe('api')
  })

  it('trims surrounding whitespace from values (a well-known pitfall with the reference)', () => {
    const config = load({
      env: {},
      file: 'difi.move.org.number=910075918   \ndifi.security.user.password=pw \ndifi.ssl.enabled=false\t',
    })
    expect(config.org.number).toBe('910075918')
    expect(config.security.password).toBe('pw')
  })

  it('exposes every resolved property by canonical key', () => {
    const config = load({
      file: 'difi.move.dpo.message-channel=kanal-1\ncustom.thing=${difi.move.org.number}',
    })
    expect(config.properties.get('difi.move.dpo.messagechannel')).toBe('kanal-1')
    expect(config.properties.get('difi.move.dpo.message-channel')).toBe('kanal-1')
    expect(config.properties.get('custom.thing')).toBe('910075918')
    expect(config.properties.get('difi.move.dpo.systemName')).toBe('910075918_integrasjonspunkt')
    expect(config.properties.get('difi.move.oidc.clientId')).toBe('MOVE_IP_910075918')
    expect(config.properties.has('difi.move.dpo.brokerserviceurl')).toBe(true)
    // a default that refers to an unset optional key is left out rather than failing
    expect(config.properties.has('difi.move.oidc.keystore.path')).toBe(false)
    // environment variables outside difi/server/spring/... only serve placeholders
    expect(load({ env: { ...MINIMAL_ENV, PATH: '/bin' } }).properties.has('path')).toBe(false)
    expect([...config.properties.keys()].every((k) => k === k.toLowerCase() && !k.includes('-'))).toBe(true)
  })
})

describe('the properties file', () => {
  it('may be missing: then environment and defaults', () => {
    expect(load().server.port).toBe(9093)
  })

  it('--config FILE replaces the default file, relative to the working directory', () => {
    const cwd = tempDir()
    writeFile(cwd, 'integrasjonspunkt-local.properties', 'server.port=1111')
    mkdirSync(join(cwd, 'conf'))
    writeFile(cwd, 'conf/ip.properties', 'difi.move.nextmove.lockTimeoutMinutes=3')
    const config = load({ cwd, configFile: 'conf/ip.properties' })
    expect(config.server.port).toBe(9093)
    expect(config.nextmove.lockTimeoutMinutes).toBe(3)
    expect(load({ cwd, configFile: join(cwd, 'conf/ip.properties') }).nextmove.lockTimeoutMinutes).toBe(3)
  })

  it('--config naming a missing file is an error', () => {
    const cwd = tempDir()
    const err = loadError({ cwd, configFile: 'nope.properties' })
    expect(err.message).toBe(
      `--config nope.properties: the file ${join(cwd, 'nope.properties')} does not exist`,
    )
    expect(err.key).toBe('--config')
  })

  it('refuses a YAML local file rather than ignoring it', () => {
    const cwd = tempDir()
    writeFile(cwd, 'integrasjonspunkt-local.yml', 'difi:\n  move: {}\n')
    expect(loadError({ cwd }).message).toContain(
      'integrasjonspunkt-local.yml is not read (YAML configuration is not supported)',
    )
  })

  it('reports a syntax error with the file and line', () => {
    const cwd = tempDir()
    const err = loadError({ cwd, file: 'a=1\nb=\\uZZZZ' })
    expect(err.message).toBe(
      `${join(cwd, 'integrasjonspunkt-local.properties')} line 2: malformed \\uXXXX escape "\\uZZZZ"`,
    )
  })

  it('reads UTF-8 (with or without BOM) and falls back to ISO-8859-1', () => {
    expect(
      load({ file: 'difi.move.dpv.email-subject=Melding på vei' }).properties.get(
        'difi.move.dpv.email-subject',
      ),
    ).toBe('Melding på vei')
    const utf8 = load({ file: '\uFEFFdifi.move.dpv.email-subject=Melding på vei' })
    expect(utf8.properties.get('difi.move.dpv.email-subject')).toBe('Melding på vei')
    const cwd = tempDir()
    writeFile(
      cwd,
      'integrasjonspunkt-local.properties',
      Buffer.from('difi.move.dpv.email-subject=Melding på vei', 'latin1'),
    )
    const latin1 = load({ cwd })
    expect(latin1.properties.get('difi.move.dpv.email-subject')).toBe('Melding på vei')
  })
})

describe('profiles (spring.profiles.active)', () => {
  const withProfile = (profile: string, file?: string) =>
    load({ env: { ...MINIMAL_ENV, SPRING_PROFILES_ACTIVE: profile }, file })

  it('production: the production ServiceRegistry, DPE on, no arkivmelding receipts', () => {
    const config = withProfile('production')
    expect(config.serviceRegistry.endpoint).toBe('https://eformidling.no/adressetjeneste')
    expect(config.serviceRegistry.jwkUrl).toBe('https://eformidling.no/adressetjeneste/jwk')
    expect(config.features.enabled).toEqual({
      DPO: false,
      DPV: false,
      DPI: false,
      DPF: false,
      DPE: true,
      DPH: false,
    })
    expect(config.arkivmelding.generateReceipts).toBe(false)
    expect(config.properties.get('difi.move.dpo.brokerserviceUrl')).toBe(
      'https://platform.altinn.no/broker/api/v1',
    )
  })

  it('staging: the test ServiceRegistry with beta features, no arkivmelding receipts', () => {
    const config = withProfile('staging')
    expect(config.serviceRegistry.endpoint).toBe('https://test.eformidling.no/adressetjeneste')
    expect(config.serviceRegistry.betaFeatures).toBe(true)
    expect(config.arkivmelding.generateReceipts).toBe(false)
    expect(config.features.enabled.DPE).toBe(false)
  })

  it('dev: the dev ServiceRegistry', () => {
    expect(withProfile('dev').serviceRegistry.endpoint).toBe('https://eformidling.dev/adressetjeneste')
    expect(withProfile('dev').properties.get('difi.move.identifier.synthetic.allow')).toBe('true')
  })

  it('lets the last of several profiles win and the operator’s file win over any profile', () => {
    expect(withProfile('production, staging').serviceRegistry.endpoint).toBe(
      'https://test.eformidling.no/adressetjeneste',
    )
    expect(withProfile('production', 'difi.move.feature.enableDPE=false').features.enabled.DPE).toBe(false)
  })

  it('may be set in the file or the overrides too; unknown profiles change nothing', () => {
    expect(load({ file: 'spring.profiles.active=production' }).features.enabled.DPE).toBe(true)
    expect(load({ overrides: { 'spring.profiles.active': 'production' } }).features.enabled.DPE).toBe(true)
    expect(withProfile('itest').serviceRegistry.endpoint).toBe('https://test.eformidling.no/adressetjeneste')
  })
})

describe('the result', () => {
  it('is frozen all the way down', () => {
    const config = load()
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.org.keystore)).toBe(true)
    expect(Object.isFrozen(config.nextmove.statusServices)).toBe(true)
    expect(Object.isFrozen(config.features.enabled)).toBe(true)
    expect(() => {
      ;(config.server as { port: number }).port = 1
    }).toThrow(TypeError)
    expect(() => (config.nextmove.statusServices as string[]).push('DPV')).toThrow(TypeError)
    expect('set' in config.properties).toBe(false)
    expect(Object.isFrozen(config.properties)).toBe(true)
  })

  it('does not depend on process.env', () => {
    const cwd = tempDir()
    const before = process.env.DIFI_MOVE_ORG_NUMBER
    process.env.DIFI_MOVE_ORG_NUMBER = '123456789'
    try {
      expect(loadConfig({ cwd, env: MINIMAL_ENV }).org.number).toBe('910075918')
      expect(() => loadConfig({ cwd, env: {} })).toThrow(ConfigError)
    } finally {
      if (before === undefined) delete process.env.DIFI_MOVE_ORG_NUMBER
      else process.env.DIFI_MOVE_ORG_NUMBER = before
    }
  })
})
