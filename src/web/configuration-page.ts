import { type ServiceState, serviceState } from '../channels/registry.js'
import type { Config } from '../config/types.js'
import type { PayloadStoreKind } from '../files/choose-store.js'
import { type Html, html } from './html.js'
import type { Page } from './layout.js'
import { HIDDEN, maskValue } from './mask.js'

const SERVICE_BADGES: Record<ServiceState, { label: string; badge: string }> = {
  off: { label: 'off', badge: '' },
  'no-transport': { label: 'on, no transport: refused', badge: 'DOWN' },
  deliverable: { label: 'on', badge: 'UP' },
}

/**
 * `/configuration`: the configuration this process runs with, as it was resolved at start (built-in
 * defaults, profile, properties file, environment), with every secret hidden (src/web/mask.ts).
 */
export function configurationPage(
  config: Config,
  info: Record<string, unknown>,
  transports: ReadonlySet<string>,
  payloadStore: PayloadStoreKind,
  smallSendsInDatabase = false,
): Page {
  const services = Object.entries(config.features.enabled).map(([service, on]) => {
    const { label, badge } = SERVICE_BADGES[serviceState(service, config.features.enabled, transports)]
    return html`<span class="badge ${badge}" data-service="${service}" data-enabled="${on}" data-transport="${String(transports.has(service))}">${service} ${label}</span>`
  })
  const build = (info.build ?? {}) as { version?: string }
  const uptime = (info.uptime ?? {}) as { startedAt?: string; seconds?: number }
  const summary: [string, string | number | boolean][] = [
    ['Organisation number', config.org.number],
    ['Version', build.version ?? ''],
    ['Started', uptime.startedAt ?? ''],
    ['Listening on', `${config.server.host || '0.0.0.0'}:${config.server.port}`],
    ['Database', maskValue('difi.datasource.url', config.datasource.url)],
    ['ServiceRegistry', config.serviceRegistry.endpoint],
    ['API authentication', config.security.enable ? `Basic, user ${config.security.username}` : 'off'],
    ['TLS', config.ssl.enabled],
    [
      'Payloads',
      payloadStore === 'database'
        ? `in the database (temp files in ${config.nextmove.filedir})`
        : `files in ${config.nextmove.filedir}${smallSendsInDatabase ? "; a one-step send's small files in the database" : ''}`,
    ],
    ['Lock timeout (minutes)', config.nextmove.lockTimeoutMinutes],
    ['Default lifetime (hours)', config.nextmove.defaultTtlHours],
  ]
  const properties = [...config.properties.entries()].sort(([a], [b]) => a.localeCompare(b))
  const body = html`<h1>Configuration</h1>
<section class="card" id="services"><h2>Services</h2><p class="actions">${services}</p>
<p class="muted">A service that is on but has no transport in this version cannot be delivered: a message to it is
refused when it is created (<code>ServiceNotEnabledException</code>), never accepted and failed later.</p></section>
<section class="card" id="summary"><h2>In short</h2><dl class="fields">${summary.map(
    ([label, value]) => html`<dt>${label}</dt><dd class="mono">${String(value)}</dd>`,
  )}</dl></section>
<section class="card" id="properties"><h2>Every property</h2>
<p class="muted">As resolved at start: the built-in defaults, the active profile, the properties file and the
environment, in that order of precedence (lowest first). Names are shown in their canonical form. Passwords,
secrets, tokens, keys, the datasource's user and credentials inside URLs are hidden.</p>
<div class="table-wrap"><table><thead><tr><th>Property</th><th>Value</th></tr></thead><tbody>
${properties.map(([key, value]) => propertyRow(key, value))}
</tbody></table></div></section>`
  return { title: 'Configuration', nav: 'configuration', body }
}

function propertyRow(key: string, value: string): Html {
  const shown = maskValue(key, value)
  return html`<tr><td class="mono">${key}</td><td class="mono${shown === HIDDEN ? ' muted' : ''}"${shown === HIDDEN ? html` data-hidden="true"` : ''}>${shown}</td></tr>`
}
