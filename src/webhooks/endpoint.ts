/**
 * Push endpoints: where the integration point will POST. Only http(s) URLs are taken, and when
 * `difi.move.webhooks.allowed-hosts` lists hosts, only those: a push endpoint makes this server send
 * requests wherever a fagsystem user points it (server-side request forgery; docs/webhooks.md).
 */

export type EndpointCheck = { ok: true; url: URL } | { ok: false; reason: 'url' | 'scheme' | 'host' }

export function checkEndpoint(endpoint: string, allowedHosts: readonly string[]): EndpointCheck {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return { ok: false, reason: 'url' }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'scheme' }
  if (!url.hostname) return { ok: false, reason: 'url' }
  if (!hostAllowed(url.hostname, allowedHosts)) return { ok: false, reason: 'host' }
  return { ok: true, url }
}

/**
 * An empty list allows every host (the reference's behaviour). Entries have the form the configuration
 * checked (src/config/hosts.ts): a host or IP address, or `*.` and a domain for any of its subdomains.
 */
export function hostAllowed(hostname: string, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length === 0) return true
  const host = bare(hostname)
  return allowedHosts.some((entry) => {
    const e = bare(entry)
    return e.startsWith('*.') ? host.endsWith(e.slice(1)) && host.length > e.length - 1 : host === e
  })
}

const bare = (host: string) =>
  host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')

/** The endpoint without its password, for logs and error texts. */
export function redactEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return endpoint
  }
}
