// An HTTP client for the SvarUt REST calls DPF makes: the v3 organisation send (multipart, streamed),
// the v3 status search, and the v2 eksternRef lookup and forsendelse types. Every call carries the
// Maskinporten token (scope ks:fiks) and the Fiks integration's id and password; every failure becomes
// a FiksError that says whether a retry may help.

import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { Agent, type Dispatcher, request } from 'undici'
import { isTimeout, MAX_PROBLEM_BYTES, readCapped } from '../altinn-errors.js'
import { answerError, FiksError } from './errors.js'
import type { OrganisasjonForsendelse } from './forsendelse.js'

export const FIKS_SCOPE = 'ks:fiks'

export interface SvarUtClientOptions {
  /** SvarUt's host (difi.move.fiks.ut.rest.endpointUrl), without `/api` */
  baseUrl: string
  kontoId: string
  integrasjonId: string
  integrasjonPassord: string
  tokens: { token(scope: typeof FIKS_SCOPE): Promise<string> }
  timeoutMs: number
}

/** A document part: its bytes (CMS when `kryptert`) are read only as the socket takes them. */
export interface DocumentPart {
  filnavn: string
  mimeType: string
  open(): Readable
}

export interface ForsendelseStatus {
  id: string
  status: string
  sisteStatusEndring: string | null
}

export interface SvarUtClient {
  /** `POST /api/v3/kontoer/{konto}/forsendelser/organisasjon`: the id SvarUt gives the forsendelse */
  send(forsendelse: OrganisasjonForsendelse, documents: readonly DocumentPart[]): Promise<string>
  /** `POST /api/v3/kontoer/{konto}/forsendelser/status/sok`; ids SvarUt does not know are left out */
  statuses(ids: readonly string[]): Promise<ForsendelseStatus[]>
  /** `GET /api/v2/kontoer/{konto}/forsendelser?eksternRef=`: our forsendelser with that reference */
  findByEksternRef(eksternRef: string): Promise<string[]>
  /** `GET /api/v2/forsendelsestyper` */
  forsendelsestyper(): Promise<string[]>
  close(): Promise<void>
}

export function createSvarUtClient(opts: SvarUtClientOptions): SvarUtClient {
  const base = opts.baseUrl.replace(/\/+$/, '')
  const konto = encodeURIComponent(opts.kontoId)
  const { timeoutMs } = opts
  // headersTimeout runs once the request is sent, so a long upload is not cut short by it
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })

  const call = async (
    method: 'GET' | 'POST',
    path: string,
    body?: { contentType: string; stream: Readable },
  ): Promise<unknown> => {
    const what = `SvarUt ${method} ${path.split('?')[0]}`
    const token = await opts.tokens.token(FIKS_SCOPE).catch((cause: unknown) => {
      // no token is no answer from SvarUt about the message: a key or a grant may be fixed meanwhile
      throw new FiksError(`${what}: no Maskinporten token: ${(cause as Error).message}`, {
        retryable: true,
        cause,
      })
    })
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      integrasjonid: opts.integrasjonId,
      integrasjonpassord: opts.integrasjonPassord,
      accept: 'application/json',
    }
    if (body) headers['content-type'] = body.contentType
    let res: Dispatcher.ResponseData
    try {
      res = await request(`${base}${path}`, { method, headers, body: body?.stream, dispatcher: agent })
    } catch (cause) {
      body?.stream.destroy()
      throw noAnswer(what, timeoutMs, cause)
    }
    let text: string
    try {
      text = await readCapped(res.body, MAX_PROBLEM_BYTES * (res.statusCode >= 300 ? 1 : 16))
    } catch (cause) {
      throw noAnswer(`${what}: reading the answer`, timeoutMs, cause)
    }
    if (res.statusCode < 200 || res.statusCode > 299) throw answerError(what, res.statusCode, text)
    try {
      return JSON.parse(text) as unknown
    } catch (cause) {
      throw new FiksError(`${what} answered ${res.statusCode} with a body that is not JSON`, {
        status: res.statusCode,
        retryable: false,
        cause,
      })
    }
  }

  return {
    async send(forsendelse, documents) {
      const path = `/api/v3/kontoer/${konto}/forsendelser/organisasjon`
      const json = (await call('POST', path, multipart(forsendelse, documents))) as { id?: unknown } | null
      if (typeof json?.id !== 'string' || json.id === '')
        throw new FiksError(`SvarUt POST ${path} answered without an id`, { status: 200, retryable: false })
      return json.id
    },
    async statuses(ids) {
      if (ids.length === 0) return []
      const body = { contentType: 'application/json', stream: Readable.from([JSON.stringify({ id: ids })]) }
      const json = (await call('POST', `/api/v3/kontoer/${konto}/forsendelser/status/sok`, body)) as {
        statuser?: unknown
      } | null
      const list = Array.isArray(json?.statuser) ? json.statuser : []
      return list.flatMap((s: { id?: unknown; status?: unknown; sisteStatusEndring?: unknown }) =>
        typeof s?.id === 'string' && typeof s.status === 'string'
          ? [
              {
                id: s.id,
                status: s.status,
                sisteStatusEndring: typeof s.sisteStatusEndring === 'string' ? s.sisteStatusEndring : null,
              },
            ]
          : [],
      )
    },
    async findByEksternRef(eksternRef) {
      const query = new URLSearchParams({ eksternRef })
      const json = (await call('GET', `/api/v2/kontoer/${konto}/forsendelser?${query}`)) as {
        forsendelseIds?: unknown
      } | null
      const ids = json?.forsendelseIds
      return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []
    },
    async forsendelsestyper() {
      const json = (await call('GET', '/api/v2/forsendelsestyper')) as { forsendelsestyper?: unknown } | null
      const types = json?.forsendelsestyper
      return Array.isArray(types) ? types.filter((t): t is string => typeof t === 'string') : []
    },
    close: () => agent.close(),
  }
}

function noAnswer(what: string, timeoutMs: number, cause: unknown): FiksError {
  const reason = isTimeout(cause) ? `timed out after ${timeoutMs} ms` : `failed: ${(cause as Error).message}`
  return new FiksError(`${what} ${reason}`, { retryable: true, cause })
}

const CRLF = '\r\n'

/**
 * The send's body as KS's client writes it: the `forsendelse` JSON part first, then `filer_<i>` with
 * the document's name and its original type (also when the bytes are CMS), in `dokumenter`'s order.
 * Sent chunked: an encrypted document's length is known only once it is written.
 */
function multipart(
  forsendelse: OrganisasjonForsendelse,
  documents: readonly DocumentPart[],
): { contentType: string; stream: Readable } {
  const boundary = `----efm-${randomBytes(16).toString('hex')}`
  async function* parts(): AsyncGenerator<Buffer> {
    yield Buffer.from(
      `--${boundary}${CRLF}Content-Disposition: form-data; name="forsendelse"${CRLF}` +
        `Content-Type: application/json;charset=UTF-8${CRLF}${CRLF}${JSON.stringify(forsendelse)}${CRLF}`,
    )
    for (const [i, d] of documents.entries()) {
      yield Buffer.from(
        `--${boundary}${CRLF}Content-Disposition: form-data; name="filer_${i}"; filename="${quoted(d.filnavn)}"` +
          `${/[^\x20-\x7e]/.test(d.filnavn) ? `; filename*=UTF-8''${encodeURIComponent(d.filnavn)}` : ''}${CRLF}` +
          `Content-Type: ${d.mimeType.replace(/[\r\n]/g, ' ')}${CRLF}${CRLF}`,
      )
      // pulled chunk by chunk: the next is read only when the socket took the last (constant memory)
      for await (const chunk of d.open()) yield chunk as Buffer
      yield Buffer.from(CRLF)
    }
    yield Buffer.from(`--${boundary}--${CRLF}`)
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, stream: Readable.from(parts()) }
}

function quoted(text: string): string {
  return text.replaceAll('"', '%22').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}
