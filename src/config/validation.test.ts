// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring ${placeholder} syntax is the subject here
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SECTION_KEYS } from './schema.js'
import { load, loadError, MINIMAL_ENV, tempDir } from './test-helpers.js'

describe('defaults', () => {
  it('match the reference’s application.properties (v4) where we honour the key', () => {
    const config = load({
      env: { DIFI_MOVE_ORG_NUMBER: '910075918', DIFI_SECURITY_ENABLE: 'false', DIFI_SSL_ENABLED: 'false' },
    })
    const { properties: _, ...rest } = config
    expect(rest).toMatchObject({
      server: {
        port: 9093,
        host: '',
        idleTimeoutMs: 60_000,
        keepAliveTimeoutMs: 60_000,
        headersTimeoutMs: 20_000,
      },
      org: { number: '910075918', keystore: { path: null, password: null, alias: null, type: 'PKCS12' } },
      serviceRegistry: {
        endpoint: 'https://test.eformidling.no/adressetjeneste',
        signEnable: true,
        jwkUrl: 'https://test.eformidling.no/adressetjeneste/jwk',
        timeoutMs: 10_000,
        cacheTtlSeconds: 300,
        printLookup: true,
        betaFeatures: false,
      },
      security: { enable: false, username: 'user', password: null },
      ssl: { enabled: false, keyStore: null, keyStorePassword: null, keyStoreType: 'PKCS12', keyAlias: null },
      datasource: { username: null, password: null },
      nextmove: {
        lockTimeoutMinutes: 5,
        defaultTtlHours: 24,
        statusServices: ['DPO', 'DPE'],
        ttlPollingRateMs: 30_000,
        maxCompressionRatio: 100,
      },
      ttlHours: { DPO: 24, DPV: 24, DPI: 24, DPF: 24, DPE: 24, DPH: 24 },
      uploadSizeLimit: {
        DPO: 1024 ** 3,
        DPV: 250 * 1024 ** 2,
        DPI: 50 * 1024 ** 2,
        DPF: 1024 ** 3,
        DPE: 2 * 1024 ** 2,
        DPH: 18 * 1024 ** 2,
      },
      features: {
        enabled: { DPO: false, DPV: false, DPI: false, DPF: false, DPE: false, DPH: false },
        explicit: { DPO: false, DPV: false, DPI: false, DPF: false, DPE: false, DPH: false },
        // ours: every service (the reference: none); docs/compatibility.md
        statusQueueIncludes: ['DPO', 'DPV', 'DPI', 'DPF', 'DPE', 'DPH'],
        enableReceipts: true,
      },
      arkivmelding: {
        defaultProcess: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
        dpvDefaultProcess: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
        defaultDocumentType: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
        receiptProcess: 'urn:no:difi:profile:arkivmelding:response:ver1.0',
        receiptDocumentType: 'urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering',
        generateReceipts: true,
      },
      einnsyn: {
        defaultJournalProcess: 'urn:no:difi:profile:einnsyn:journalpost:ver1.0',
        defaultInnsynskravProcess: 'urn:no:difi:profile:einnsyn:innsynskrav:ver1.0',
        receiptProcess: 'urn:no:difi:profile:einnsyn:response:ver1.0',
        defaultJournalDocumentType: 'urn:no:difi:einnsyn:xsd::publisering',
        defaultInnsynskravDocumentType: 'urn:no:difi:einnsyn:xsd::innsynskrav',
      },
      avtalt: { receiptProcess: 'urn:no:difi:profile:avtalt:response:ver1.0' },
      dpo: { messageChannel: null },
      serviceBus: {
        baseUrl: 'efm-dpe-qa.servicebus.windows.net',
        useHttps: true,
        sasKeyName: 'MoveDPE-pilotPolicy',
        sasToken: null,
        mode: 'innsyn',
        receiptQueue: null,
        readMaxMessages: 50,
        pollingRateMs: 20_000,
        connectTimeoutMs: 15_000,
        batchRead: false,
      },
      dph: {
        herIds: [],
        dialogmeldingDocumentType: 'urn:no:difi:helse:xsd:schema::dialogmelding',
        nhnProcess: 'urn:no:difi:profile:helse:helse:ver1.0',
      },
    })
  })

  it('put the SQLite database, message files and keystores under the working directory', () => {
    const cwd = tempDir()
    const config = load({
      cwd,
      file: 'difi.move.org.keystore.path=ks/org.p12\ndifi.ssl.key-store=file:tls.p12',
    })
    expect(config.datasource.url).toBe(`jdbc:sqlite:${join(cwd, 'integrasjonspunkt.sqlite')}`)
    expect(config.nextmove.filedir).toBe(join(cwd, 'messages'))
    expect(config.org.keystore.path).toBe(join(cwd, 'ks/org.p12'))
    expect(config.ssl.keyStore).toBe(join(cwd, 'tls.p12'))
    // other resource kinds the reference knows are passed on as written
    expect(load({ file: 'difi.move.org.keystore.path=vault:keystore' }).org.keystore.path).toBe(
      'vault:keystore',
    )
  })

  it('give each service its own TTL that follows the common one unless set', () => {
    const config = load({
      file: 'difi.move.nextmove.default-ttl-hours=6\ndifi.move.fiks.ut.default-ttl-hours=2',
    })
    expect(config.nextmove.defaultTtlHours).toBe(6)
    expect(config.ttlHours).toEqual({ DPO: 6, DPV: 6, DPI: 6, DPF: 2, DPE: 6, DPH: 6 })
  })
})

describe('validation errors name the property and what is expected', () => {
  const only = (env: Record<string, string>, file = '') =>
    loadError({ env: { ...MINIMAL_ENV, ...env }, file })

  it('the organisation number is required and has 9 digits', () => {
    const { DIFI_MOVE_ORG_NUMBER: _, ...env } = MINIMAL_ENV
    expect(loadError({ env }).message).toBe(
      'difi.move.org.number is required: set it to your organisation number (9 digits)',
    )
    expect(loadError({ env }).key).toBe('difi.move.org.number')
    expect(only({ DIFI_MOVE_ORG_NUMBER: '91007591' }).message).toBe(
      'difi.move.org.number must be exactly 9 digits, got "91007591"',
    )
    expect(only({ DIFI_MOVE_ORG_NUMBER: '0192:910075918' }).message).toContain('must be exactly 9 digits')
  })

  it('a port is a number from 1 to 65535', () => {
    expect(only({ SERVER_PORT: 'abc' }).message).toBe(
      'server.port must be a port number (0-65535), got "abc"',
    )
  })

  it('Basic auth, on by default, needs a password', () => {
    const { DIFI_SECURITY_USER_PASSWORD: _, ...env } = MINIMAL_ENV
    expect(loadError({ env }).message).toBe(
      'difi.security.enable is true (the default) but difi.security.user.password is empty: set a password or set difi.security.enable=false',
    )
    expect(loadError({ env: { ...env, DIFI_SECURITY_ENABLE: 'true' } }).message).toBe(
      'difi.security.enable is true but difi.security.user.password is empty: set a password or set difi.security.enable=false',
    )
    expect(load({ env: { ...env, DIFI_SECURITY_ENABLE: 'false' } }).security.enable).toBe(false)
  })

  it('TLS, on by default, needs a PKCS#12 key store', () => {
    const { DIFI_SSL_ENABLED: _, ...env } = MINIMAL_ENV
    const err = loadError({ env })
    expect(err.message).toBe(
      'difi.ssl.enabled is true (the default) but difi.ssl.key-store is not set: point it at a PKCS#12 file or set difi.ssl.enabled=false',
    )
    expect(err.key).toBe('difi.ssl.key-store')
    expect(loadError({ env, file: 'difi.ssl.key-store=ks.jks\ndifi.ssl.key-store-type=JKS' }).message).toBe(
      'difi.ssl.key-store-type must be PKCS12, got "JKS": convert the keystore with keytool -importkeystore -deststoretype PKCS12',
    )
    const ssl = load({
      env,
      file: 'difi.ssl.key-store=/k/tls.p12\ndifi.ssl.key-store-type=pkcs12\ndifi.ssl.key-alias=ip',
    }).ssl
    expect(ssl).toEqual({
      enabled: true,
      keyStore: '/k/tls.p12',
      keyStorePassword: null,
      keyStoreType: 'PKCS12',
      keyAlias: 'ip',
    })
  })

  it('the datasource is SQLite or PostgreSQL', () => {
    expect(only({}, 'difi.datasource.url=jdbc:h2:file:./integrasjonspunkt').message).toBe(
      'difi.datasource.url "jdbc:h2:file:./integrasjonspunkt" is not supported (H2 is not supported; SQLite and PostgreSQL are): ' +
        'use jdbc:sqlite:PATH, jdbc:postgresql://HOST[:PORT]/DB[?params], or a postgres:// or postgresql:// URL',
    )
    expect(only({}, 'difi.datasource.url=').message).toBe(
      'difi.datasource.url must not be empty: set it to jdbc:sqlite:PATH or a PostgreSQL URL',
    )
    const pg = load({
      file: 'difi.datasource.url=jdbc:postgresql://db:5432/ip\ndifi.datasource.username=ip\ndifi.datasource.password=pw',
    })
    expect(pg.datasource).toEqual({ url: 'jdbc:postgresql://db:5432/ip', username: 'ip', password: 'pw' })
  })

  it('the DPO message channel is at most 25 of [a-zA-Z0-9-_]', () => {
    expect(load({ file: 'difi.move.dpo.message-channel=Kanal_1-a' }).dpo.messageChannel).toBe('Kanal_1-a')
    expect(load({ file: `difi.move.dpo.message-channel=${'a'.repeat(25)}` }).dpo.messageChannel).toHaveLength(
      25,
    )
    expect(only({}, `difi.move.dpo.message-channel=${'a'.repeat(26)}`).message).toBe(
      `difi.move.dpo.message-channel must be at most 25 letters, digits, "-" or "_", got "${'a'.repeat(26)}"`,
    )
    expect(only({}, 'difi.move.dpo.message-channel=æøå').key).toBe('difi.move.dpo.message-channel')
  })

  it('the DPE mode is innsyn, data or meeting, in any case (kept in lower case)', () => {
    const err = only({ DIFI_MOVE_NEXTMOVE_SERVICEBUS_MODE: 'journal' })
    expect(err.message).toBe(
      'difi.move.nextmove.serviceBus.mode must be innsyn, data or meeting, got "journal"',
    )
    expect(err.key).toBe('difi.move.nextmove.serviceBus.mode')
    expect(load({ file: 'difi.move.nextmove.serviceBus.mode=Meeting' }).serviceBus.mode).toBe('meeting')
  })

  it('the ServiceRegistry endpoint and JWK URL are http(s) URLs', () => {
    expect(only({ DIFI_MOVE_SERVICEREGISTRYENDPOINT: 'sr.local:9099' }).message).toBe(
      'difi.move.serviceregistryEndpoint must be an http(s) URL such as https://eformidling.no/adressetjeneste, got "sr.local:9099"',
    )
    expect(only({}, 'difi.move.sign.jwkUrl=nope').key).toBe('difi.move.sign.jwkUrl')
  })

  it('booleans, numbers, sizes and service lists say what they accept', () => {
    expect(only({}, 'difi.move.feature.enableDPO=ja').message).toBe(
      'difi.move.feature.enableDPO must be true or false, got "ja"',
    )
    expect(only({}, 'difi.move.nextmove.lockTimeoutMinutes=0').message).toBe(
      'difi.move.nextmove.lockTimeoutMinutes must be a whole number (1 or more), got "0"',
    )
    expect(only({}, 'difi.move.dpv.upload-size-limit=250 MB').message).toContain(
      'difi.move.dpv.upload-size-limit must be a data size such as 1GB, 250MB or 1048576',
    )
    expect(only({}, 'difi.move.nextmove.status-services=DPO,XYZ').message).toBe(
      'difi.move.nextmove.status-services must list services among DPO, DPV, DPI, DPF, DPE, DPH, got "XYZ"',
    )
    expect(only({}, 'difi.move.dph.her-ids=123,abc').message).toBe(
      'difi.move.dph.her-ids must be a list of HER-ids (digits), got "abc"',
    )
    expect(only({}, 'difi.move.arkivmelding.default-process=').message).toBe(
      'difi.move.arkivmelding.default-process must not be empty: leave it out to use the built-in default',
    )
  })

  it('a value taken from another property through a default says so', () => {
    expect(only({}, 'difi.move.feature.enable-auth=maybe').message).toBe(
      'difi.security.enable must be true or false, got "maybe" (the value comes from difi.move.feature.enable-auth)',
    )
  })

  it('placeholders that cannot be resolved, or go round in circles, name the property', () => {
    expect(only({}, 'difi.move.nextmove.filedir=${DATA_DIR}/messages').message).toMatch(
      /^difi\.move\.nextmove\.filedir \(from .+integrasjonspunkt-local\.properties\): could not resolve placeholder \$\{DATA_DIR\}/,
    )
    const cycle = only({}, 'a.one=${a.two}\na.two=${a.one}')
    expect(cycle.issues.map((i) => i.key)).toEqual(['a.one', 'a.two'])
    expect(cycle.message).toContain('a.one (from ')
    expect(cycle.message).toContain('circular placeholder reference a.one -> a.two -> a.one')
    expect(only({ DIFI_MOVE_ORG_NUMBER: '${NOPE}' }).message).toMatch(
      /^DIFI_MOVE_ORG_NUMBER \(from the environment\)/,
    )
  })

  it('lists every problem, one per line, the organisation number first', () => {
    const err = loadError({ env: { SERVER_PORT: '70000' } })
    expect(err.message.split('\n')).toEqual([
      'difi.move.org.number is required: set it to your organisation number (9 digits)',
      'server.port must be a port number (0-65535), got "70000"',
      'difi.security.enable is true (the default) but difi.security.user.password is empty: set a password or set difi.security.enable=false',
      'difi.ssl.enabled is true (the default) but difi.ssl.key-store is not set: point it at a PKCS#12 file or set difi.ssl.enabled=false',
    ])
    expect(err.issues.map((i) => i.key)).toEqual([
      'difi.move.org.number',
      'server.port',
      'difi.security.user.password',
      'difi.ssl.key-store',
    ])
  })
})

describe('docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')

  it('documents every property the configuration reads', () => {
    const missing = [...SECTION_KEYS, 'spring.profiles.active'].filter((key) => !doc.includes(`\`${key}\``))
    expect(missing).toEqual([])
  })

  it('shows examples that load', () => {
    const [sqlite, postgres, ...more] = [...doc.matchAll(/```properties\n([\s\S]*?)```/g)].map((m) => m[1]!)
    expect(more).toEqual([])
    const env = { IP_API_PASSWORD: 'pw', ORG_KEYSTORE_PASSWORD: 'ks', DB_PASSWORD: 'db' }
    const a = load({ env, file: sqlite })
    expect(a.datasource.url).toMatch(/^jdbc:sqlite:\/.+\/data\/integrasjonspunkt\.sqlite$/)
    expect(a.ssl.enabled && a.security.password === 'pw').toBe(true)
    const b = load({ env: { ...env, SPRING_PROFILES_ACTIVE: 'production' }, file: postgres })
    expect(b.datasource).toEqual({
      url: 'jdbc:postgresql://db.internal:5432/integrasjonspunkt',
      username: 'integrasjonspunkt',
      password: 'db',
    })
    expect(b.serviceRegistry.endpoint).toBe('https://eformidling.no/adressetjeneste')
  })
})
