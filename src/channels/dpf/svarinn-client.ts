// An HTTP client for SvarInn ("Mottaksservice V1"), with the mottakersystem's Basic credentials as the
// reference: list what waits, download one (streamed: CMS of a zip, possibly large), acknowledge it, or
// report that it cannot be taken in. Failures become FiksErrors that say whether a retry may help.

import type { Readable } from 'node:stream'
import { Agent, type Dispatcher, request } from 'undici'
import { isTimeout, MAX_PROBLEM_BYTES, readCapped } from '../altinn-errors.js'
import { answerError, FiksError } from './errors.js'

export interface SvarInnClientOptions {
  /** difi.move.fiks.inn.baseUrl, `…/tjenester/svarinn` */
  baseUrl: string
  username: string
  password: string
  connectTimeoutMs: number
  /** for an answer, or a pause in a body */
  readTimeoutMs: number
}

export interface SvarInnClient {
  /** `GET /mottaker/hentNyeForsendelser`: each item as SvarInn wrote it, to be checked one by one */
  hentNyeForsendelser(): Promise<unknown[]>
  /** `GET {downloadUrl}`: the body as it arrives; the caller must read or destroy it */
  download(downloadUrl: string): Promise<Readable>
  /** `POST /kvitterMottak/forsendelse/{id}`: taken in; SvarUt sets it LEST */
  kvitterMottak(id: string): Promise<void>
  /** `POST /mottakFeilet/forsendelse/{id}`: permanent sends it on by SvarUt's other routes */
  mottakFeilet(id: string, feilmelding: string, permanent: boolean): Promise<void>
  close(): Promise<void>
}

/** How much of the list is read: a page of metadata, not documents. */
const MAX_LIST_BYTES = 32 * 1024 * 1024

export function createSvarInnClient(opts: SvarInnClientOptions): SvarInnClient {
  const base = new URL(`${opts.baseUrl.replace(/\/+$/, '')}/`)
  const authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`
  const agent = new Agent({
    connectTimeout: opts.connectTimeoutMs,
    headersTimeout: opts.readTimeoutMs,
    bodyTimeout: opts.readTimeoutMs,
  })

  const call = async (method: 'GET' | 'POST', url: URL, json?: unknown): Promise<Dispatcher.ResponseData> => {
    const what = `SvarInn ${method} ${url.pathname}`
    const headers: Record<string, string> = { authorization }
    if (json !== undefined) headers['content-type'] = 'application/json'
    let res: Dispatcher.ResponseData
    try {
      res = await request(url, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        dispatcher: agent,
      })
    } catch (cause) {
      throw noAnswer(what, opts.readTimeoutMs, cause)
    }
    if (res.statusCode >= 200 && res.statusCode <= 299) return res
    const text = await readCapped(res.body, MAX_PROBLEM_BYTES).catch(() => '')
    throw answerError(what, res.statusCode, text)
  }

  const at = (path: string) => new URL(path, base)
  const done = async (res: Dispatcher.ResponseData) => {
    await res.body.dump()
  }

  return {
    async hentNyeForsendelser() {
      const res = await call('GET', at('mottaker/hentNyeForsendelser'))
      const text = await readCapped(res.body, MAX_LIST_BYTES).catch((cause: unknown) => {
        throw noAnswer(
          'SvarInn GET mottaker/hentNyeForsendelser: reading the list',
          opts.readTimeoutMs,
          cause,
        )
      })
      let list: unknown
      try {
        list = JSON.parse(text)
      } catch (cause) {
        throw new FiksError('SvarInn listed new forsendelser with a body that is not JSON', {
          retryable: true,
          cause,
        })
      }
      if (!Array.isArray(list))
        throw new FiksError('SvarInn listed new forsendelser with something other than a list', {
          retryable: true,
        })
      return list
    },
    async download(downloadUrl) {
      // the reference resolves a relative URL against the base; an absolute one must be SvarInn's own,
      // since the mottakersystem's password goes with it
      const url = new URL(downloadUrl, base)
      if (url.origin !== base.origin)
        throw new FiksError(
          `SvarInn's downloadUrl ${url.origin} is not at ${base.origin}: not sending the password there`,
          {
            retryable: false,
          },
        )
      return (await call('GET', url)).body
    },
    async kvitterMottak(id) {
      await done(await call('POST', at(`kvitterMottak/forsendelse/${encodeURIComponent(id)}`)))
    },
    async mottakFeilet(id, feilmelding, permanent) {
      await done(
        await call('POST', at(`mottakFeilet/forsendelse/${encodeURIComponent(id)}`), {
          feilmelding,
          permanent,
        }),
      )
    },
    close: () => agent.close(),
  }
}

function noAnswer(what: string, timeoutMs: number, cause: unknown): FiksError {
  const reason = isTimeout(cause) ? `timed out after ${timeoutMs} ms` : `failed: ${(cause as Error).message}`
  return new FiksError(`${what} ${reason}`, { retryable: true, cause })
}
