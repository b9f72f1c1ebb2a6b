import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkDatasourceUrl } from './datasource.js'
import { toBoolean, toChannels, toDataSize, toDuration, toHttpUrl, toInteger, toPort } from './fields.js'

const value = <T>(r: { ok: true; value: T } | { ok: false; message: string }): T => {
  if (!r.ok) throw new Error(r.message)
  return r.value
}
const message = (r: { ok: boolean; message?: string }): string => (r.ok ? 'ok' : r.message!)

describe('booleans, as Spring’s StringToBooleanConverter', () => {
  it.each(['true', 'TRUE', 'True', 'on', 'yes', '1', ' true '])('%j is true', (s) => {
    expect(value(toBoolean('k', s))).toBe(true)
  })
  it.each(['false', 'FALSE', 'off', 'no', '0', 'false   '])('%j is false', (s) => {
    expect(value(toBoolean('k', s))).toBe(false)
  })
  it.each(['', 'maybe', 'ja', '2'])('%j is refused, naming the key', (s) => {
    expect(message(toBoolean('difi.move.sign.enable', s))).toBe(
      `difi.move.sign.enable must be true or false, got ${JSON.stringify(s)}`,
    )
  })
})

describe('whole numbers and ports', () => {
  it('reads decimal digits, trimmed', () => {
    expect(value(toInteger('k', ' 42 '))).toBe(42)
    expect(value(toInteger('k', '0', 0))).toBe(0)
    expect(value(toPort('server.port', '9093'))).toBe(9093)
  })
  it('refuses anything else, saying what is expected', () => {
    expect(message(toInteger('difi.move.nextmove.lockTimeoutMinutes', '5m'))).toBe(
      'difi.move.nextmove.lockTimeoutMinutes must be a whole number (1 or more), got "5m"',
    )
    expect(message(toInteger('k', '0'))).toContain('(1 or more)')
    expect(message(toInteger('k', '-1', 0))).toContain('(0 or more)')
    expect(message(toInteger('k', '2147483648'))).toContain('got "2147483648"')
    for (const bad of ['abc', '-1', '65536', '1.5', '']) {
      expect(message(toPort('server.port', bad))).toBe(
        `server.port must be a port number (0-65535), got ${JSON.stringify(bad)}`,
      )
    }
  })
  it('accepts every port and only ports', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 70_000 }), (n) => {
        const r = toPort('p', String(n))
        expect(r.ok).toBe(n >= 0 && n <= 65_535)
      }),
    )
  })
})

describe('durations, as Spring Boot binds Tomcat’s timeouts', () => {
  it.each([
    ['60000', 60_000],
    ['20s', 20_000],
    ['2m', 120_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['PT20S', 20_000],
    ['PT1M30S', 90_000],
    ['PT0.5S', 500],
  ])('%s is %d ms', (raw, ms) => {
    expect(value(toDuration('k', raw))).toBe(ms)
  })
  it.each(['', '-1', '0', '0s', '20 s', '1w', 'PT', 'soon', '99999999999d'])('refuses %j', (raw) => {
    expect(message(toDuration('server.tomcat.connection-timeout', raw))).toBe(
      `server.tomcat.connection-timeout must be a duration such as 60s, 2m, 500ms or 60000 (milliseconds), got ${JSON.stringify(raw)}`,
    )
  })
})

describe('data sizes, as Spring’s DataSize', () => {
  it.each([
    ['1GB', 1_073_741_824],
    ['250MB', 262_144_000],
    ['50MB', 52_428_800],
    ['18MB', 18_874_368],
    ['2MB', 2_097_152],
    ['64KB', 65_536],
    ['1TB', 1_099_511_627_776],
    ['5B', 5],
    ['1048576', 1_048_576],
    [' 2MB ', 2_097_152],
  ])('%s is %d bytes', (s, bytes) => {
    expect(value(toDataSize('k', s))).toBe(bytes)
  })
  it.each(['1gb', '1.5GB', '-1MB', '0', '0MB', 'MB', '1 GB', '1PB', ''])('%j is refused', (s) => {
    expect(message(toDataSize('difi.move.dpo.upload-size-limit', s))).toBe(
      'difi.move.dpo.upload-size-limit must be a data size such as 1GB, 250MB or 1048576 ' +
        `(bytes; units B, KB, MB, GB, TB), got ${JSON.stringify(s)}`,
    )
  })
})

describe('http(s) URLs', () => {
  it('are kept without trailing slashes', () => {
    expect(value(toHttpUrl('k', 'https://eformidling.no/adressetjeneste/'))).toBe(
      'https://eformidling.no/adressetjeneste',
    )
    expect(value(toHttpUrl('k', 'http://localhost:9099//'))).toBe('http://localhost:9099')
    expect(value(toHttpUrl('k', 'http://localhost:9099'))).toBe('http://localhost:9099')
  })
  it.each(['ftp://x', 'localhost:9099', 'eformidling.no', '', 'http://'])('%j is refused', (s) => {
    expect(message(toHttpUrl('difi.move.serviceregistryEndpoint', s))).toBe(
      `difi.move.serviceregistryEndpoint must be an http(s) URL such as https://eformidling.no/adressetjeneste, got ${JSON.stringify(s)}`,
    )
  })
})

describe('service lists', () => {
  it('accept known services in any case, once each', () => {
    expect(value(toChannels('k', ['dpo', ' DPE', 'DPO']))).toEqual(['DPO', 'DPE'])
    expect(value(toChannels('k', []))).toEqual([])
  })
  it('refuse unknown ones, listing what is allowed', () => {
    expect(message(toChannels('difi.move.nextmove.status-services', ['DPO', 'DPFIO']))).toBe(
      'difi.move.nextmove.status-services must list services among DPO, DPV, DPI, DPF, DPE, DPH, got "DPFIO"',
    )
  })
})

describe('difi.datasource.url', () => {
  const key = 'difi.datasource.url'
  it.each([
    ['jdbc:sqlite:/var/lib/ip/ip.sqlite', 'jdbc:sqlite:/var/lib/ip/ip.sqlite'],
    ['jdbc:sqlite:ip.sqlite', 'jdbc:sqlite:/srv/ip/ip.sqlite'],
    ['jdbc:sqlite:data/ip.sqlite', 'jdbc:sqlite:/srv/ip/data/ip.sqlite'],
    ['jdbc:sqlite::memory:', 'jdbc:sqlite::memory:'],
    ['jdbc:postgresql://db/ip', 'jdbc:postgresql://db/ip'],
    [
      'jdbc:postgresql://db:5432/ip?ssl=true&currentSchema=ip',
      'jdbc:postgresql://db:5432/ip?ssl=true&currentSchema=ip',
    ],
    ['postgres://user:pw@db:5432/ip', 'postgres://user:pw@db:5432/ip'],
    ['postgresql://db/ip?sslmode=require', 'postgresql://db/ip?sslmode=require'],
  ])('accepts %s', (url, expected) => {
    expect(value(checkDatasourceUrl(key, url, '/srv/ip'))).toBe(expected)
  })

  it.each([
    ['jdbc:h2:file:./integrasjonspunkt', 'H2'],
    ['jdbc:mysql://db:3306/ip', 'MySQL'],
    ['jdbc:mariadb://db:3306/ip', 'MariaDB'],
    ['jdbc:sqlserver://db:1433;databaseName=ip', 'SQL Server'],
  ])('refuses %s, saying what is supported', (url, name) => {
    expect(message(checkDatasourceUrl(key, url, '/'))).toBe(
      `difi.datasource.url ${JSON.stringify(url)} is not supported (${name} is not supported; SQLite and PostgreSQL are): ` +
        'use jdbc:sqlite:PATH, jdbc:postgresql://HOST[:PORT]/DB[?params], or a postgres:// or postgresql:// URL',
    )
  })

  it('refuses other or malformed URLs', () => {
    expect(message(checkDatasourceUrl(key, 'mongodb://db/ip', '/'))).toContain(
      '"mongodb://db/ip" is not supported: use',
    )
    expect(message(checkDatasourceUrl(key, 'jdbc:postgresql:ip', '/'))).toContain('is not a valid URL')
    expect(message(checkDatasourceUrl(key, 'jdbc:postgresql://db', '/'))).toContain('is not a valid URL')
    expect(message(checkDatasourceUrl(key, 'jdbc:sqlite:', '/'))).toContain('needs a file path')
  })
})
