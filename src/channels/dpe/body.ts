// The body of a DPE message on Service Bus: `{"sbd": <SBD JSON>, "asic": base64(base64(CMS))}`, as the
// reference's NextMoveServiceBusPayloadFactory and its Jackson mapper write it.

/** A body DPE cannot take in, whatever happens later: the receiver dead-letters the message with this reason. */
export class DpeBodyError extends Error {
  override name = 'DpeBodyError'
}

/**
 * The largest body we decode: four times the upload limit (base64 twice is 16/9, plus the ASiC's
 * manifest, signature and CMS around the files), and never less than 8 MiB, so a sender whose limit is
 * a little above ours still gets through while a runaway body is refused before it is parsed.
 */
export function maxBodyBytes(uploadSizeLimit: number): number {
  return Math.max(8 * 1024 * 1024, 4 * uploadSizeLimit)
}

/**
 * The body the reference sends: Jackson's pretty printer (INDENT_OUTPUT) and null members left out
 * (its global mapper), so without files there is no `asic` key at all. `asic` is base64 of the CMS's
 * base64 text: the factory encodes the CMS into a byte[], which Jackson writes as base64 again.
 * Receivers decode twice, so this is kept on the wire.
 */
export function encodeBody(sbd: Record<string, unknown>, cms: Buffer | null): Buffer {
  const body: Record<string, unknown> = { sbd }
  if (cms !== null) body.asic = Buffer.from(cms.toString('base64'), 'ascii').toString('base64')
  return Buffer.from(`${jackson(body, 0)}`, 'utf8')
}

export interface DecodedBody {
  sbd: Record<string, unknown>
  /** the CMS (an encrypted ASiC-E); null when the message has no files */
  cms: Buffer | null
  /** 1 when `asic` came with one layer of base64, as a sender that did not copy the reference's quirk writes */
  asicLayers: 1 | 2 | null
}

/**
 * What a body holds, or a DpeBodyError. `asic` is decoded twice as the reference does. A single layer is
 * taken too, when it can be told apart safely: a CMS is a DER/BER SEQUENCE, whose first two bytes are
 * 0x30 and a length byte of 0x80 or more for anything over 127 bytes, and 0x80 and above is never in
 * base64's alphabet; so after one decode, base64 text means a second layer and `30 8x` means the CMS.
 */
export function decodeBody(bytes: Buffer, maxBytes: number): DecodedBody {
  if (bytes.length > maxBytes)
    throw new DpeBodyError(`the body has ${bytes.length} bytes, more than the ${maxBytes} DPE takes in`)
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (cause) {
    throw new DpeBodyError(`the body is not UTF-8 JSON: ${(cause as Error).message}`)
  }
  if (!isObject(json)) throw new DpeBodyError('the body is not a JSON object {"sbd": …, "asic": …}')
  const { sbd, asic } = json
  if (!isObject(sbd) || !isObject(sbd.standardBusinessDocumentHeader))
    throw new DpeBodyError('the body has no "sbd" with a standardBusinessDocumentHeader')
  if (asic === undefined || asic === null) return { sbd, cms: null, asicLayers: null }
  if (typeof asic !== 'string') throw new DpeBodyError('"asic" is not a base64 string')
  const once = base64(asic, '"asic"')
  if (isSequence(once)) return { sbd, cms: once, asicLayers: 1 }
  const cms = base64(once.toString('latin1'), '"asic" once decoded')
  if (!isSequence(cms)) throw new DpeBodyError('"asic" decoded twice is not a CMS (no ASN.1 SEQUENCE)')
  return { sbd, cms, asicLayers: 2 }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Strict base64 (Buffer.from skips what it does not know), line breaks allowed as MIME encoders write them. */
function base64(text: string, what: string): Buffer {
  const compact = text.replace(/[\r\n]/g, '')
  if (compact === '' || !BASE64.test(compact)) throw new DpeBodyError(`${what} is not base64`)
  return Buffer.from(compact, 'base64')
}

function isSequence(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x30 && bytes[1]! >= 0x80
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * Jackson's DefaultPrettyPrinter: objects one member a line, indented two spaces a level, `"key" : value`,
 * `{ }` when empty; arrays on the line they open, `[ a, b ]`, `[ ]` when empty, not indenting what they
 * hold; null members left out (NON_NULL). A body read by people in the stand-in and in logs looks as
 * the reference's.
 */
function jackson(value: unknown, level: number): string {
  if (Array.isArray(value))
    return value.length === 0 ? '[ ]' : `[ ${value.map((v) => jackson(v ?? null, level)).join(', ')} ]`
  if (isObject(value)) {
    const members = Object.entries(value).filter(([, v]) => v !== null && v !== undefined)
    if (members.length === 0) return '{ }'
    const pad = '  '.repeat(level + 1)
    const lines = members.map(([k, v]) => `${pad}${JSON.stringify(k)} : ${jackson(v, level + 1)}`)
    return `{\n${lines.join(',\n')}\n${'  '.repeat(level)}}`
  }
  return JSON.stringify(value) ?? 'null'
}
