import { timingSafeEqual } from 'node:crypto'

/** HTTP Basic credentials check, in constant time for equal-length input. */
export function basicAuthMatches(header: string | undefined, username: string, password: string): boolean {
  if (!header || !/^basic\s+/i.test(header)) return false
  let decoded: string
  try {
    decoded = Buffer.from(header.replace(/^basic\s+/i, ''), 'base64').toString('utf8')
  } catch {
    return false
  }
  const colon = decoded.indexOf(':')
  if (colon < 0) return false
  return same(decoded.slice(0, colon), username) && same(decoded.slice(colon + 1), password)
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
