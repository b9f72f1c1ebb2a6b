// An HTTP client for the part of Altinn 3 Correspondence that DPV uses (upload, overview, search), through
// Digdir's proxy. Every call carries the Altinn token with scope `eformidling:dpv`; every non-2xx answer
// and every failed call becomes a BrokerError (src/channels/altinn-errors.ts) that says whether a retry
// may help, with Altinn's problem details.

import { Agent, type Dispatcher, request } from 'undici'
import {
  BrokerError,
  httpError,
  isTimeout,
  MAX_PROBLEM_BYTES,
  networkError,
  readCapped,
} from '../altinn-errors.js'
import type { MultipartBody } from './multipart.js'

export const DPV_SCOPE = 'eformidling:dpv'

export interface CorrespondenceClientOptions {
  /** difi.move.dpv.correspondenceServiceUrl, `…/correspondence/api/v1` */
  baseUrl: string
  tokens: { token(scope: typeof DPV_SCOPE): Promise<string> }
  timeoutMs: number
}

/** The fields of Altinn's CorrespondenceOverviewExt that DPV reads. */
export interface CorrespondenceOverview {
  correspondenceId?: string
  status?: string | null
  statusText?: string | null
  published?: string | null
  read?: string | null
}

export interface CorrespondenceClient {
  /** `POST /correspondence/upload`; the first correspondence's id */
  upload(body: MultipartBody): Promise<string>
  /** `GET /correspondence/{id}` */
  overview(correspondenceId: string): Promise<CorrespondenceOverview>
  /**
   * `GET /correspondence?resourceId&role=Sender&sendersReference`: the ids of our correspondences with that
   * reference (the messageId, as the idempotentKey is; sendersReference is in Altinn's published API, the
   * idempotentKey filter only in its newer code)
   */
  findBySendersReference(resourceId: string, sendersReference: string): Promise<string[]>
  close(): Promise<void>
}

export function createCorrespondenceClient(opts: CorrespondenceClientOptions): CorrespondenceClient {
  const base = opts.baseUrl.replace(/\/+$/, '')
  const { timeoutMs } = opts
  // headersTimeout runs once the request is sent, so a long upload is not cut short by it
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })

  const call = async <T>(
    method: 'GET' | 'POST',
    path: string,
    body?: MultipartBody,
  ): Promise<{ status: number; json: T }> => {
    const what = `Altinn Correspondence ${method} ${path.split('?')[0]}`
    const token = await opts.tokens.token(DPV_SCOPE).catch((cause: unknown) => {
      // no token is no answer from Altinn about the message: a key or a delegation may be fixed meanwhile
      throw new BrokerError(`${what}: no Altinn token: ${(cause as Error).message}`, {
        retryable: true,
        cause,
      })
    })
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json, application/problem+json',
    }
    if (body) {
      headers['content-type'] = body.contentType
      headers['content-length'] = String(body.length)
    }
    const stream = body?.stream()
    let res: Dispatcher.ResponseData
    try {
      res = await request(`${base}${path}`, { method, headers, body: stream, dispatcher: agent })
    } catch (cause) {
      // a file that could not be read fails the body: not Altinn's fault, and it may pass
      stream?.destroy()
      throw networkError(what, timeoutMs, isTimeout(cause), cause)
    }
    let text: string
    try {
      text = await readCapped(res.body, res.statusCode >= 300 ? MAX_PROBLEM_BYTES : 16 * MAX_PROBLEM_BYTES)
    } catch (cause) {
      throw networkError(`${what}: reading the answer`, timeoutMs, isTimeout(cause), cause)
    }
    if (res.statusCode < 200 || res.statusCode > 299) throw httpError(what, res.statusCode, text)
    try {
      return { status: res.statusCode, json: JSON.parse(text) as T }
    } catch (cause) {
      throw new BrokerError(`${what} answered ${res.statusCode} with a body that is not JSON`, {
        status: res.statusCode,
        retryable: false,
        cause,
      })
    }
  }

  return {
    async upload(body) {
      const { json } = await call<{ correspondences?: { correspondenceId?: unknown }[] }>(
        'POST',
        '/correspondence/upload',
        body,
      )
      const id = json?.correspondences?.[0]?.correspondenceId
      if (typeof id !== 'string' || id === '')
        throw new BrokerError('Altinn Correspondence POST /correspondence/upload answered without an id', {
          status: 200,
          retryable: false,
        })
      return id
    },
    async overview(id) {
      return (await call<CorrespondenceOverview>('GET', `/correspondence/${encodeURIComponent(id)}`)).json
    },
    async findBySendersReference(resourceId, sendersReference) {
      // the reference sends sendersReference alone, which Altinn refuses (400: `role` is required)
      const query = new URLSearchParams({ resourceId, role: 'Sender', sendersReference })
      const { json } = await call<{ ids?: unknown }>('GET', `/correspondence?${query}`)
      const ids = json?.ids
      return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []
    },
    close: () => agent.close(),
  }
}
