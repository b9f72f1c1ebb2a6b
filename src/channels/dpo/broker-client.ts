// An HTTP client for the part of the Altinn 3 Broker API that DPO uses (initialize, upload, list,
// overview, download, confirm; docs/altinn-broker-standin.md, "Endpoints"). Payloads stream both ways;
// every non-2xx answer and every failed call becomes a BrokerError that says whether a retry may help.

import { PassThrough, type Readable } from 'node:stream'
import { Agent, type Dispatcher, request } from 'undici'
import {
  BrokerError,
  httpError,
  isTimeout,
  MAX_PROBLEM_BYTES,
  networkError,
  readCapped,
} from '../altinn-errors.js'
import type {
  FileTransferInitalizeExt,
  FileTransferInitializeResponseExt,
  FileTransferListQuery,
  FileTransferOverviewExt,
} from './broker-types.js'
import type { BrokerScope } from './token.js'

export interface BrokerClientOptions {
  /** `difi.move.dpo.brokerserviceUrl`, e.g. `https://platform.altinn.no/broker/api/v1` */
  baseUrl: string
  tokens: { token(scope: BrokerScope): Promise<string> }
  /** the limit for connecting, for the answer's headers, and for each pause in a body */
  timeoutMs: number
}

export interface BrokerClient {
  initialize(body: FileTransferInitalizeExt): Promise<string>
  upload(fileTransferId: string, body: Readable, size?: number): Promise<void>
  list(query: FileTransferListQuery): Promise<string[]>
  overview(fileTransferId: string): Promise<FileTransferOverviewExt>
  download(fileTransferId: string): Promise<Readable>
  confirmDownload(fileTransferId: string): Promise<void>
  close(): Promise<void>
}

interface Call {
  method: 'GET' | 'POST'
  path: string
  scope: BrokerScope
  headers?: Record<string, string>
  body?: string | Readable
}

export function createBrokerClient(opts: BrokerClientOptions): BrokerClient {
  const base = opts.baseUrl.replace(/\/+$/, '')
  const { timeoutMs } = opts
  // headersTimeout runs once the request is sent, so a long upload is not cut short by it
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  const send = (call: Call) => callBroker(base, agent, opts.tokens, timeoutMs, call)
  const json = async <T>(call: Call): Promise<T> => readJson<T>(await send(call), describe(call), timeoutMs)

  return {
    async initialize(body) {
      // as the reference: POST `/filetransfer/`, with the trailing slash
      const call: Call = {
        method: 'POST',
        path: '/filetransfer/',
        scope: 'altinn:broker.write',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }
      const answer = await json<Partial<FileTransferInitializeResponseExt>>(call)
      if (typeof answer?.fileTransferId !== 'string' || answer.fileTransferId === '')
        throw new BrokerError(`${describe(call)} answered without a fileTransferId`, {
          status: 200,
          retryable: false,
        })
      return answer.fileTransferId
    },
    async upload(id, body, size) {
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' }
      if (size !== undefined) headers['content-length'] = String(size)
      const path = `/filetransfer/${seg(id)}/upload`
      // a failed upload (even one that never reached the socket) closes the caller's stream, so a
      // file behind it is not left open
      const res = await send({ method: 'POST', path, scope: 'altinn:broker.write', headers, body }).catch(
        (error: unknown) => {
          body.destroy()
          throw error
        },
      )
      // the FileTransferUploadResponseExt tells nothing new; as the reference, it is ignored
      await res.body.dump()
    },
    async list(query) {
      const params = new URLSearchParams({ resourceId: query.resourceId })
      if (query.status) params.set('status', query.status)
      if (query.recipientStatus) params.set('recipientStatus', query.recipientStatus)
      const call: Call = { method: 'GET', path: `/filetransfer?${params}`, scope: 'altinn:broker.read' }
      const ids = await json<unknown>(call)
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))
        throw new BrokerError(`${describe(call)} answered something other than a list of ids`, {
          status: 200,
          retryable: false,
        })
      return ids
    },
    overview(id) {
      return json<FileTransferOverviewExt>({
        method: 'GET',
        path: `/filetransfer/${seg(id)}`,
        scope: 'altinn:broker.read',
      })
    },
    async download(id) {
      const call: Call = {
        method: 'GET',
        path: `/filetransfer/${seg(id)}/download`,
        scope: 'altinn:broker.read',
      }
      const res = await send(call)
      return withBrokerErrors(res.body, `${describe(call)}: reading the file`, timeoutMs)
    },
    async confirmDownload(id) {
      const res = await send({
        method: 'POST',
        path: `/filetransfer/${seg(id)}/confirmdownload`,
        scope: 'altinn:broker.read',
      })
      await res.body.dump()
    },
    close: () => agent.close(),
  }
}

const seg = (id: string) => encodeURIComponent(id)
const describe = (call: Call) => `The Altinn broker ${call.method} ${call.path.split('?')[0]}`

/** Makes one call; answers only a 2xx, whose body the caller must read or dump. */
async function callBroker(
  base: string,
  dispatcher: Dispatcher,
  tokens: BrokerClientOptions['tokens'],
  timeoutMs: number,
  call: Call,
): Promise<Dispatcher.ResponseData> {
  const token = await tokens.token(call.scope)
  const what = describe(call)
  let res: Dispatcher.ResponseData
  try {
    res = await request(`${base}${call.path}`, {
      method: call.method,
      headers: {
        ...call.headers,
        authorization: `Bearer ${token}`,
        accept: 'application/json, application/problem+json',
      },
      body: call.body,
      dispatcher,
    })
  } catch (cause) {
    throw networkError(what, timeoutMs, isTimeout(cause), cause)
  }
  if (res.statusCode >= 200 && res.statusCode <= 299) return res
  throw httpError(what, res.statusCode, await readProblem(res.body, what, timeoutMs))
}

async function readJson<T>(res: Dispatcher.ResponseData, what: string, timeoutMs: number): Promise<T> {
  let text: string
  try {
    text = await res.body.text()
  } catch (cause) {
    throw networkError(`${what}: reading the answer`, timeoutMs, isTimeout(cause), cause)
  }
  try {
    return JSON.parse(text) as T
  } catch (cause) {
    throw new BrokerError(`${what} answered ${res.statusCode} with a body that is not JSON`, {
      status: res.statusCode,
      retryable: false,
      cause,
    })
  }
}

/** An error answer's body, kept short: it is only read for its ProblemDetails. */
async function readProblem(
  body: Dispatcher.ResponseData['body'],
  what: string,
  timeoutMs: number,
): Promise<string> {
  try {
    return await readCapped(body, MAX_PROBLEM_BYTES)
  } catch (cause) {
    throw networkError(`${what}: reading the error answer`, timeoutMs, isTimeout(cause), cause)
  }
}

/**
 * The download as the caller reads it: a broker that stalls or drops the connection mid-file ends
 * the stream with a retryable BrokerError rather than undici's own error; the caller giving up
 * early releases the connection.
 */
function withBrokerErrors(body: Readable, what: string, timeoutMs: number): Readable {
  const out = new PassThrough()
  body.once('error', (cause) => out.destroy(networkError(what, timeoutMs, isTimeout(cause), cause)))
  out.once('close', () => body.destroy())
  body.pipe(out)
  return out
}
