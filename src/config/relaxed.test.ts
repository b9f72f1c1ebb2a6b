// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring ${placeholder} syntax is the subject here
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalKey, dashedForm, envNamesFor, envVarToKey, lookupEnvVar } from './relaxed.js'

describe('canonicalKey', () => {
  it('makes kebab, camel and underscore spellings one key', () => {
    const canonical = 'difi.move.nextmove.locktimeoutminutes'
    expect(canonicalKey('difi.move.nextmove.lock-timeout-minutes')).toBe(canonical)
    expect(canonicalKey('difi.move.nextmove.lockTimeoutMinutes')).toBe(canonical)
    expect(canonicalKey('difi.move.nextmove.lock_timeout_minutes')).toBe(canonical)
    expect(canonicalKey('DIFI.MOVE.NEXTMOVE.LOCKTIMEOUTMINUTES')).toBe(canonical)
    expect(canonicalKey('difi.move.nextmove.serviceBus.default-ttl-hours')).toBe(
      canonicalKey('difi.move.nextmove.service-bus.defaultTtlHours'),
    )
  })

  it('writes list indices in brackets, whichever way they were given', () => {
    expect(canonicalKey('difi.move.dph.her-ids[0]')).toBe('difi.move.dph.herids[0]')
    expect(canonicalKey('difi.move.dph.her-ids.1')).toBe('difi.move.dph.herids[1]')
    expect(canonicalKey('a[0].b-c')).toBe('a[0].bc')
  })

  it('keeps what is inside brackets as written', () => {
    expect(canonicalKey('difi.move.fiks.ut.paa-vegne-av[Foo.Bar].username')).toBe(
      'difi.move.fiks.ut.paavegneav[Foo.Bar].username',
    )
  })

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const once = canonicalKey(s)
        expect(canonicalKey(once)).toBe(once)
      }),
    )
  })
})

describe('environment variables', () => {
  it('bind by the standard mapping: _ is a dot, digits are an index, case does not matter', () => {
    expect(envVarToKey('DIFI_MOVE_ORG_NUMBER')).toBe('difi.move.org.number')
    expect(envVarToKey('SERVER_PORT')).toBe('server.port')
    expect(envVarToKey('DIFI_MOVE_DPH_HERIDS_0')).toBe('difi.move.dph.herids[0]')
    expect(envVarToKey('DIFI_MOVE_NEXTMOVE_LOCKTIMEOUTMINUTES')).toBe(
      canonicalKey('difi.move.nextmove.lockTimeoutMinutes'),
    )
    expect(envVarToKey('difi_move_org_number')).toBe('difi.move.org.number')
  })

  it('with a dot in the name are a property name', () => {
    expect(envVarToKey('difi.move.org.number')).toBe('difi.move.org.number')
    expect(envVarToKey('difi.move.nextmove.lock-timeout-minutes')).toBe(
      'difi.move.nextmove.locktimeoutminutes',
    )
  })

  it('have standard and legacy names for a known property', () => {
    expect(envNamesFor('difi.ssl.key-store')).toEqual(['DIFI_SSL_KEYSTORE', 'DIFI_SSL_KEY_STORE'])
    expect(envNamesFor('difi.move.nextmove.lockTimeoutMinutes')).toEqual([
      'DIFI_MOVE_NEXTMOVE_LOCKTIMEOUTMINUTES',
      'DIFI_MOVE_NEXTMOVE_LOCK_TIMEOUT_MINUTES',
    ])
    expect(envNamesFor('difi.move.serviceregistryEndpoint')).toEqual([
      'DIFI_MOVE_SERVICEREGISTRYENDPOINT',
      'DIFI_MOVE_SERVICEREGISTRY_ENDPOINT',
    ])
    expect(envNamesFor('difi.move.dph.her-ids[0]')).toEqual([
      'DIFI_MOVE_DPH_HERIDS_0',
      'DIFI_MOVE_DPH_HER_IDS_0',
    ])
    expect(envNamesFor('server.port')).toEqual(['SERVER_PORT'])
  })

  it('are found for ${name} placeholders in the spellings Spring tries', () => {
    const env = { HOME: '/home/ip', MY_DB_URL: 'postgres://db/ip', 'lower.case': 'x' }
    expect(lookupEnvVar(env, 'HOME')).toEqual({ name: 'HOME', value: '/home/ip' })
    expect(lookupEnvVar(env, 'home')).toEqual({ name: 'HOME', value: '/home/ip' })
    expect(lookupEnvVar(env, 'my.db-url')).toEqual({ name: 'MY_DB_URL', value: 'postgres://db/ip' })
    expect(lookupEnvVar(env, 'lower.case')).toEqual({ name: 'lower.case', value: 'x' })
    expect(lookupEnvVar(env, 'nothing')).toBeUndefined()
  })
})

describe('dashedForm', () => {
  it('is Spring’s: camel case split with dashes, lower case', () => {
    expect(dashedForm('difi.move.nextmove.lockTimeoutMinutes')).toBe(
      'difi.move.nextmove.lock-timeout-minutes',
    )
    expect(dashedForm('difi.move.feature.enableDPO')).toBe('difi.move.feature.enable-d-p-o')
    expect(dashedForm('a.b_c[0]')).toBe('a.b-c[0]')
  })
})
