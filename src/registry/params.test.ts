import { describe, expect, it } from 'vitest'
import { pathSegment, srCacheKey, srParameterText, srPath, toSrParameter } from './params.js'

const ADMIN = 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0'
const on = { printLookup: true, infoOnly: false }

describe('srPath (SRParameter.getUrlTemplate)', () => {
  it('builds the identifier URL with the process URN unencoded and the query in fixed order', () => {
    const p = toSrParameter(
      {
        identifier: '910075918',
        process: ADMIN,
        securityLevel: 3,
        conversationId: '37efbd4c-413d-4e2c-bbc5-257ef4a65a45',
      },
      on,
    )
    expect(srPath(p)).toBe(
      `identifier/910075918/process/${ADMIN}?securityLevel=3&conversationId=37efbd4c-413d-4e2c-bbc5-257ef4a65a45`,
    )
  })

  it('leaves out what is not set, and an empty process', () => {
    expect(srPath(toSrParameter({ identifier: '09118532322', securityLevel: 3 }, on))).toBe(
      'identifier/09118532322?securityLevel=3',
    )
    expect(srPath(toSrParameter({ identifier: '910075918', process: '', conversationId: '' }, on))).toBe(
      'identifier/910075918',
    )
  })

  it('sends print=false last, only when print is off (by the caller or by enableDsfPrintLookup=false)', () => {
    expect(srPath(toSrParameter({ identifier: '1', print: false, conversationId: 'c' }, on))).toBe(
      'identifier/1?conversationId=c&print=false',
    )
    expect(srPath(toSrParameter({ identifier: '1', print: true }, on))).toBe('identifier/1')
    const off = toSrParameter({ identifier: '1', print: true }, { printLookup: false, infoOnly: false })
    expect(srPath(off)).toBe('identifier/1?print=false')
  })

  it('uses info/{id} for info lookups, without any query', () => {
    const p = toSrParameter(
      { identifier: '910075924', securityLevel: 4 },
      { printLookup: false, infoOnly: true },
    )
    expect(srPath(p)).toBe('info/910075924')
  })

  it('keeps identifier colons but cannot leave its path segment', () => {
    expect(pathSegment('her-id:8143548')).toBe('her-id:8143548')
    expect(pathSegment('0192:910075918')).toBe('0192:910075918')
    expect(pathSegment('a/../b?x#y %')).toBe('a%2F..%2Fb%3Fx%23y%20%25')
    expect(pathSegment('..')).toBe('%2E%2E')
    expect(srPath(toSrParameter({ identifier: '1', conversationId: 'a&b=c' }, on))).toBe(
      'identifier/1?conversationId=a%26b%3Dc',
    )
  })
})

describe('srParameterText (Lombok toString of SRParameter)', () => {
  it('prints every field, null for the unset ones', () => {
    const p = toSrParameter({ identifier: '910075918', process: ADMIN, securityLevel: 3 }, on)
    expect(srParameterText(p)).toBe(
      `SRParameter(identifier=910075918, process=${ADMIN}, securityLevel=3, print=null, infoOnly=false, conversationId=null)`,
    )
  })

  it('shows print=false when the print lookup is switched off, and the conversation id when given', () => {
    const p = toSrParameter(
      { identifier: '1', conversationId: 'abc' },
      { printLookup: false, infoOnly: true },
    )
    expect(srParameterText(p)).toBe(
      'SRParameter(identifier=1, process=null, securityLevel=null, print=false, infoOnly=true, conversationId=abc)',
    )
  })
})

describe('srCacheKey', () => {
  it('ignores the conversation id, as the reference cache does', () => {
    const a = toSrParameter({ identifier: '1', process: ADMIN, conversationId: 'x' }, on)
    const b = toSrParameter({ identifier: '1', process: ADMIN, conversationId: 'y' }, on)
    expect(srCacheKey(a)).toBe(srCacheKey(b))
  })

  it('separates everything else', () => {
    const base = { identifier: '1', process: ADMIN, securityLevel: 3 }
    const keys = new Set([
      srCacheKey(toSrParameter(base, on)),
      srCacheKey(toSrParameter({ ...base, identifier: '2' }, on)),
      srCacheKey(toSrParameter({ ...base, process: null }, on)),
      srCacheKey(toSrParameter({ ...base, securityLevel: 4 }, on)),
      srCacheKey(toSrParameter({ ...base, print: false }, on)),
      srCacheKey(toSrParameter(base, { printLookup: true, infoOnly: true })),
    ])
    expect(keys.size).toBe(6)
  })
})
