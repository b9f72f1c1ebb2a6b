// The print provider from the contact register (KRR): its organisation number (the receiver of a print
// letter's SBD) and the certificate its package is encrypted to. `GET difi.move.dpi.krr-print-url`,
// no authentication, as the reference's PrintService. Ours: asked only for print letters (the reference
// asks for every DPI send, so KRR had to answer for digital post too), once per try: a failure fails the
// send, which is retried later, where the reference retried 10 times 3 s apart inside the send.

import { X509Certificate } from 'node:crypto'
import { type Clock, systemClock } from '../../util/time.js'

export interface PrintProvider {
  /** `postkasseleverandoerAdresse`: nine digits */
  orgnr: string
  /** `x509Sertifikat`, as PEM */
  certPem: string
}

export interface KrrPrintClient {
  /** the print provider, from the last 5 minutes' answer or asked anew; a KrrPrintError otherwise */
  printProvider(): Promise<PrintProvider>
}

/** KRR did not answer, or not with a print provider: a later try may pass (`retryable` is always true). */
export class KrrPrintError extends Error {
  override name = 'KrrPrintError'
  readonly retryable = true
  /** the answer's HTTP status; null when there was none */
  readonly status: number | null

  constructor(message: string, status: number | null, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.status = status
  }
}

/** as the reference's cache of the print certificate */
export const KRR_PRINT_CACHE_MS = 5 * 60_000
/** the answer is a few kilobytes; more is not one */
const MAX_ANSWER_BYTES = 256 * 1024

export function createKrrPrintClient(opts: {
  url: string
  timeoutMs: number
  fetch?: typeof fetch
  clock?: Clock
}): KrrPrintClient {
  const clock = opts.clock ?? systemClock
  let cached: { provider: PrintProvider; until: number } | undefined
  // concurrent sends share one question
  let pending: Promise<PrintProvider> | undefined

  const ask = async (): Promise<PrintProvider> => {
    const what = `KRR's print certificate GET ${opts.url}`
    const signal = AbortSignal.timeout(opts.timeoutMs)
    let status: number
    let text: string
    try {
      const res = await (opts.fetch ?? fetch)(opts.url, { headers: { accept: 'application/json' }, signal })
      status = res.status
      text = await readCapped(res, MAX_ANSWER_BYTES)
    } catch (cause) {
      const reason = signal.aborted
        ? `timed out after ${opts.timeoutMs} ms`
        : `failed: ${(cause as Error).message}`
      throw new KrrPrintError(`${what} ${reason}`, null, cause)
    }
    if (status < 200 || status > 299)
      throw new KrrPrintError(
        `${what} answered ${status}: ${text.trim().slice(0, 300) || 'no reason given'}`,
        status,
      )
    const provider = parse(text)
    if (typeof provider === 'string')
      throw new KrrPrintError(`${what} answered ${status} ${provider}`, status)
    cached = { provider, until: clock.now().getTime() + KRR_PRINT_CACHE_MS }
    return provider
  }

  return {
    printProvider() {
      if (cached && clock.now().getTime() < cached.until) return Promise.resolve(cached.provider)
      pending ??= ask().finally(() => {
        pending = undefined
      })
      return pending
    },
  }
}

/** The provider in KRR's answer, or what is wrong with the answer. */
function parse(text: string): PrintProvider | string {
  let body: { postkasseleverandoerAdresse?: unknown; x509Sertifikat?: unknown } | null
  try {
    body = JSON.parse(text)
  } catch {
    return 'with a body that is not JSON'
  }
  const orgnr = body?.postkasseleverandoerAdresse
  if (typeof orgnr !== 'string' || !/^\d{9}$/.test(orgnr.trim()))
    return 'without an organisation number in postkasseleverandoerAdresse'
  const certificate = body?.x509Sertifikat
  if (typeof certificate !== 'string') return 'without x509Sertifikat'
  const certPem = toPem(certificate)
  if (certPem === null) return 'with an x509Sertifikat that is not a certificate'
  return { orgnr: orgnr.trim(), certPem }
}

/** A PEM certificate from PEM or bare base64 DER, checked by reading it; null when it is neither. */
export function toPem(certificate: string): string | null {
  const text = certificate.trim()
  const base64 = text.includes('-----BEGIN')
    ? text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')
    : text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return null
  try {
    return new X509Certificate(Buffer.from(base64, 'base64')).toString()
  } catch {
    return null
  }
}

/** The body's text, at most `max` bytes (the rest is not read). */
async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.length
    if (size >= max) {
      await reader.cancel()
      break
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, max)
}
