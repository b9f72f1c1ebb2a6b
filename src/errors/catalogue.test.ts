import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS, type ErrorDefinition, formatMessage } from './catalogue.js'

const doc = readFileSync(new URL('../../docs/compatibility.md', import.meta.url), 'utf8')

describe('the error catalogue', () => {
  it('names every answer of ours in docs/compatibility.md', () => {
    const ours = Object.entries(ERRORS as Record<string, ErrorDefinition>)
      .filter(([, def]) => def.ours)
      .map(([code]) => code)
    expect(ours.length).toBeGreaterThan(0)
    const missing = ours.filter((code) => !doc.includes(`\`${code}\``))
    expect(missing).toEqual([])
  })

  it('knows every exception class docs/compatibility.md names', () => {
    const known = new Set(Object.values(ERRORS as Record<string, ErrorDefinition>).map((d) => d.exception))
    const named = [...doc.matchAll(/`((?:no\.difi|org\.springframework|jakarta|java)\.[\w.]+)`/g)].map(
      (m) => m[1]!,
    )
    expect(named.length).toBeGreaterThan(3)
    expect(named.filter((n) => !known.has(n))).toEqual([])
  })

  it('formats messages as Java MessageFormat does', () => {
    expect(formatMessage('MessageNotFound', ['messageId', 'abc'])).toBe(
      'Message with messageId = abc was not found',
    )
    expect(formatMessage('MultipartFileToLarge', ['a.pdf', 5_242_880])).toBe(
      "The attachment named 'a.pdf' is too large. The maximum size for multipart requests is 5,242,880 bytes. Please use the non-multipart API to avoid such problems.",
    )
    expect(formatMessage('MissingAddressInformation', ['mottaker'])).toBe(
      '--no.difi.meldingsutveksling.exceptions.MissingAddressInformationException-- [mottaker]',
    )
    expect(formatMessage('MissingHttpHeader', ['Content-Type'])).toBe(
      "Expected a HTTP header named 'Content-Type'",
    )
  })
})
