import { describe, expect, it } from 'vitest'
import { HIDDEN, isSecretKey, maskValue } from './mask.js'

describe('the configuration page hides', () => {
  it.each([
    'difi.move.org.keystore.password',
    'difi.security.user.password',
    'difi.ssl.key-store-password',
    'difi.datasource.password',
    'difi.datasource.username',
    'spring.datasource.username',
    'vault.token',
    'difi.move.nextmove.service-bus.sas-token',
    'difi.move.webhooks.secret',
    'difi.move.oidc.jwk',
    'difi.move.dph.private-key',
    'some.api-key',
    'difi.move.fiks.keystore.password',
  ])('%s', (key) => {
    expect(isSecretKey(key)).toBe(true)
    expect(maskValue(key, 'hunter2')).toBe(HIDDEN)
  })

  it.each([
    'difi.move.org.keystore.path',
    'difi.move.org.keystore.alias',
    'difi.move.dpo.altinnTokenExchangeUrl',
    'difi.move.nextmove.serviceBus.sasKeyName',
    'difi.security.user.name',
    'difi.move.sign.jwkUrl',
    'difi.ssl.key-store',
    'difi.move.org.number',
  ])('but shows %s', (key) => {
    expect(isSecretKey(key)).toBe(false)
    expect(maskValue(key, 'value')).toBe('value')
  })

  it('credentials inside URLs, with or without jdbc:', () => {
    expect(maskValue('difi.datasource.url', 'postgres://ip:s3cret@db:5432/ip')).toBe(
      'postgres://***:***@db:5432/ip',
    )
    expect(maskValue('difi.datasource.url', 'jdbc:postgresql://ip:s3cret@db/ip')).toBe(
      'jdbc:postgresql://***:***@db/ip',
    )
    expect(maskValue('difi.datasource.url', 'jdbc:postgresql://db/ip?user=ip&password=s3cret&ssl=true')).toBe(
      'jdbc:postgresql://db/ip?user=***&password=***&ssl=true',
    )
    expect(maskValue('difi.move.serviceregistryEndpoint', 'https://sr.example/api')).toBe(
      'https://sr.example/api',
    )
  })

  it('private keys under any name', () => {
    expect(maskValue('difi.move.org.keystore.base64', '-----BEGIN PRIVATE KEY-----\nMII…')).toBe(HIDDEN)
    expect(maskValue('x', '-----BEGIN RSA PRIVATE KEY-----')).toBe(HIDDEN)
  })
})
