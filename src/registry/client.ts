import type { Clock } from '../util/time.js'
import { TtlCache } from './cache.js'
import {
  NotFoundInServiceRegistryError,
  ServiceRegistryLookupError,
  ServiceRegistryUnavailableError,
} from './errors.js'
import { createAgent, type HttpAnswer, httpGet, MAX_ANSWER_BYTES, statusText } from './http.js'
import { createJwsVerifier } from './jws.js'
import {
  type SrParameter,
  type SrParams,
  srCacheKey,
  srParameterText,
  srPath,
  toSrParameter,
} from './params.js'
import { parseIdentifierResource, parseJsonText } from './parse.js'
import { createSasKeySource, type SasKeySource } from './sas-key.js'
import type { IdentifierResource, InfoRecord, ServiceRecord } from './types.js'

export type { SrParams } from './params.js'
export type { SasKeySource } from './sas-key.js'

/**
 * The integration point's port to the ServiceRegistry (reference: `ServiceRegistryLookup`); `sasKey()` is
 * DPE's Service Bus key (`/sastoken`).
 */
export interface ServiceRegistry extends SasKeySource {
  /** `GET identifier/{id}[/process/{p}]?securityLevel&conversationId&print=false` */
  lookup(params: SrParams): Promise<IdentifierResource>
  /** The first record of the process that lists `documentType` (reference: `getServiceRecord(param, docType)`). */
  serviceRecord(params: SrParams & { process: string }, documentType: string): Promise<ServiceRecord>
  /** `GET info/{id}` */
  info(identifier: string): Promise<InfoRecord>
  /** `GET virksert/{orgnr}`: the organisation's business certificate (PEM), as Virksert holds it */
  certificate(orgnr: string): Promise<string>
}

export interface ServiceRegistryClientOptions {
  /** difi.move.serviceregistryEndpoint */
  endpoint: string
  /** difi.move.sign.enable: ask for signed answers and refuse any that do not verify */
  signEnable: boolean
  jwkUrl: string
  timeoutMs: number
  cacheTtlSeconds: number
  /** difi.move.feature.enableDsfPrintLookup: false sends print=false on every lookup */
  printLookup: boolean
  /** difi.move.feature.enableBetaFeatures: sends X-Enable-Beta-Features: true */
  betaFeatures: boolean
  clock: Clock
  /** bound on cached answers (default 10 000) */
  maxCacheEntries?: number
  /** told whether each lookup was answered from the cache (metrics) */
  onCacheLookup?: (hit: boolean) => void
  /** told when the registry could not be reached and the last good SAS key was used instead (a warning) */
  onStaleSasKey?: (error: ServiceRegistryUnavailableError) => void
}

export type ServiceRegistryClient = ServiceRegistry & { clearCache(): void; close(): Promise<void> }

export function createServiceRegistryClient(opts: ServiceRegistryClientOptions): ServiceRegistryClient {
  const endpoint = opts.endpoint.replace(/\/+$/, '')
  const agent = createAgent(opts.timeoutMs)
  const cache = new TtlCache<IdentifierResource>(
    opts.clock,
    opts.cacheTtlSeconds * 1000,
    opts.maxCacheEntries ?? 10_000,
  )
  const inFlight = new Map<string, Promise<IdentifierResource>>()
  const certificates = new TtlCache<string>(opts.clock, opts.cacheTtlSeconds * 1000, 1000)
  const headers: Record<string, string> = {
    accept: opts.signEnable ? 'application/jose, application/json' : 'application/json',
  }
  if (opts.betaFeatures) headers['x-enable-beta-features'] = 'true'
  const get = (url: string, accept?: string, extra?: Record<string, string>): Promise<HttpAnswer> =>
    httpGet(url, {
      dispatcher: agent,
      headers: { ...headers, ...(accept ? { accept } : {}), ...extra },
      timeoutMs: opts.timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
    })
  const verifier = createJwsVerifier({
    jwkUrl: opts.jwkUrl,
    clock: opts.clock,
    get: (url) => get(url, 'application/json'),
  })
  const sas = createSasKeySource({
    url: `${endpoint}/sastoken`,
    get,
    verifier,
    clock: opts.clock,
    onStaleSasKey: opts.onStaleSasKey,
  })

  async function fetchResource(param: SrParameter): Promise<IdentifierResource> {
    const url = `${endpoint}/${srPath(param)}`
    const answer = await get(url)
    if (answer.status !== 200) throw errorFor(answer, param, url)
    const text = opts.signEnable ? await verifier.verify(answer.body, url) : answer.body
    return readResource(text, url)
  }

  // Caffeine caches only values, so a failed lookup is asked again next time, as in the reference.
  async function load(param: SrParameter): Promise<IdentifierResource> {
    checkParameter(param)
    const key = srCacheKey(param)
    const hit = cache.get(key)
    opts.onCacheLookup?.(hit !== undefined)
    if (hit) return hit
    let pending = inFlight.get(key)
    if (!pending) {
      pending = fetchResource(param)
        .then((resource) => {
          cache.set(key, resource)
          return resource
        })
        .finally(() => inFlight.delete(key))
      inFlight.set(key, pending)
    }
    return pending
  }

  return {
    lookup: (params) => load(toSrParameter(params, { printLookup: opts.printLookup, infoOnly: false })),
    async serviceRecord(params, documentType) {
      const param = toSrParameter(params, { printLookup: opts.printLookup, infoOnly: false })
      if (!param.process) {
        throw new ServiceRegistryLookupError('Cannot determine documentType with missing process parameter')
      }
      const resource = await load(param)
      const record = resource.serviceRecords.find((r) => r.documentTypes.includes(documentType))
      if (record) return record
      throw new ServiceRegistryLookupError(
        `Error looking up service record with document type '${documentType}' and parameters: ${srParameterText(param)}`,
      )
    },
    async info(identifier) {
      const param = toSrParameter({ identifier }, { printLookup: opts.printLookup, infoOnly: true })
      const resource = await load(param)
      if (resource.infoRecord) return resource.infoRecord
      const url = `${endpoint}/${srPath(param)}`
      throw new ServiceRegistryLookupError(`The answer to GET ${url} has no infoRecord`, { url })
    },
    async certificate(orgnr) {
      if (!/^\d{9}$/.test(orgnr))
        throw new ServiceRegistryLookupError(
          `A certificate lookup needs an organisation number, not ${orgnr}`,
        )
      const hit = certificates.get(orgnr)
      if (hit) return hit
      const url = `${endpoint}/virksert/${orgnr}`
      const answer = await get(url, opts.signEnable ? 'application/jose, text/plain' : 'text/plain')
      if (answer.status === 404)
        throw new NotFoundInServiceRegistryError(`No certificate for ${orgnr} (GET ${url})`, {
          url,
          status: 404,
        })
      if (answer.status !== 200) {
        const param = toSrParameter({ identifier: orgnr }, { printLookup: opts.printLookup, infoOnly: true })
        throw errorFor(answer, param, url)
      }
      const pem = (opts.signEnable ? await verifier.verify(answer.body, url) : answer.body).trim()
      if (!pem.includes('-----BEGIN CERTIFICATE-----'))
        throw new ServiceRegistryLookupError(`The answer to GET ${url} is not a PEM certificate`, { url })
      certificates.set(orgnr, pem)
      return pem
    },
    sasKey: (auth) => sas.sasKey(auth),
    invalidateSasKey: () => sas.invalidateSasKey(),
    clearCache() {
      cache.clear()
      certificates.clear()
      verifier.clear()
      sas.invalidateSasKey()
    },
    close: () => agent.close(),
  }
}

function checkParameter(p: SrParameter): void {
  if (typeof p.identifier !== 'string' || p.identifier.trim() === '') {
    throw new ServiceRegistryLookupError(
      `A ServiceRegistry lookup needs an identifier: ${srParameterText(p)}`,
    )
  }
  if (p.securityLevel !== null && !Number.isInteger(p.securityLevel)) {
    throw new ServiceRegistryLookupError(`securityLevel must be a whole number: ${srParameterText(p)}`)
  }
}

function readResource(text: string, url: string): IdentifierResource {
  try {
    return parseIdentifierResource(parseJsonText(text))
  } catch (err) {
    // as the reference: "Parsing response as a IdentifierResource JSON object failed. Content is: ..."
    throw new ServiceRegistryLookupError(
      `Parsing response as a IdentifierResource JSON object failed (GET ${url}): ${(err as Error).message}. ` +
        `Content is: ${abbreviate(text)}`,
      { url, cause: err, status: 200 },
    )
  }
}

/** Maps a non-200 answer as the reference's `ServiceRegistryClient` does, plus 5xx as "unavailable". */
function errorFor(answer: HttpAnswer, param: SrParameter, url: string): Error {
  const { status } = answer
  const options = { url, status }
  if (status === 404) {
    return new NotFoundInServiceRegistryError(
      `Service record not found for parameters: ${srParameterText(param)}`,
      options,
    )
  }
  const { name, reason } = statusText(status)
  const error = errorBody(answer.body)
  if (status >= 500) {
    const detail = typeof error?.description === 'string' ? `: ${error.description}` : ''
    return new ServiceRegistryUnavailableError(
      `ServiceRegistry is unavailable: GET ${url} answered ${status} ${name} (${reason})${detail}`,
      options,
    )
  }
  if (status >= 400) {
    // the reference's texts, with and without a readable error body, then the URL
    const head = `Caught exception when looking up service record with parameter ${srParameterText(param)}, http status`
    const text = error
      ? `${head} ${status} ${name} (${reason}): ${error.description}`
      : `${head}: ${status} ${name} (${reason})`
    return new ServiceRegistryLookupError(`${text} (GET ${url})`, options)
  }
  return new ServiceRegistryLookupError(`Unexpected answer ${status} ${name} to GET ${url}`, options)
}

/** The SR's `{error_code, error_description}` body; undefined when the body is not a JSON object. */
function errorBody(body: string): { description: string | null } | undefined {
  try {
    const parsed = parseJsonText(body)
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
    const description = (parsed as Record<string, unknown>).error_description
    return { description: description === undefined || description === null ? null : String(description) }
  } catch {
    return undefined
  }
}

function abbreviate(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}…` : text
}
