import { lookupReceiver } from '../capabilities/lookup.js'
import { type Capability, toCapabilities } from '../capabilities/mapper.js'
import { serviceState } from '../channels/registry.js'
import { ApiError } from '../errors/api-error.js'
import type { ServiceRegistry } from '../registry/client.js'
import type { InfoRecord } from '../registry/types.js'
import { type Html, html } from './html.js'
import type { Page } from './layout.js'
import { param, type Query } from './params.js'

/** What this integration point can send by: the services turned on, and those with a transport. */
export interface Sending {
  enabled: Readonly<Record<string, boolean>>
  transports: ReadonlySet<string>
}

/** Whether a message by this service can leave from here, in words. */
function fromHere(service: string, sending: Sending): Html {
  switch (serviceState(service, sending.enabled, sending.transports)) {
    case 'off':
      return html`<span class="badge">off</span> <span class="muted">difi.move.feature.enable${service}</span>`
    case 'no-transport':
      return html`<span class="badge DOWN">no transport</span> <span class="muted">refused at create</span>`
    case 'deliverable':
      return html`<span class="badge UP">can send</span>`
  }
}

export interface CapabilitiesAnswer {
  page: Page
  status: number
}

/**
 * `/capabilities`: what the ServiceRegistry says of a receiver, through the lookup
 * `GET /api/capabilities/{receiver}` uses. A failed lookup is the page with the reason, with the status
 * the API would answer (404 unknown, 503 registry down), never a 500.
 */
export async function capabilitiesAnswer(
  registry: ServiceRegistry,
  query: Query,
  sending: Sending,
): Promise<CapabilitiesAnswer> {
  const identifier = param(query, 'identifier', 100)
  const process = param(query, 'process', 300)
  const form = lookupForm(identifier, process)
  if (identifier === undefined) return { status: 200, page: page(form, html``) }
  try {
    const resource = await lookupReceiver(registry, {
      identifier,
      process: process ?? null,
      securityLevel: null,
    })
    const caps = toCapabilities(resource).capabilities
    return { status: 200, page: page(form, result(identifier, resource.infoRecord, caps, sending)) }
  } catch (error) {
    const status = error instanceof ApiError ? error.status : 500
    const message = error instanceof Error ? error.message : String(error)
    const box = html`<section class="card"><p class="flash error" id="lookup-error">The ServiceRegistry lookup of
<code>${identifier}</code> failed (${status}): ${message}</p></section>`
    return { status: status >= 400 && status < 600 ? status : 500, page: page(form, box) }
  }
}

function page(form: Html, result: Html): Page {
  return { title: 'Capabilities', nav: 'capabilities', body: html`<h1>Capabilities</h1>${form}${result}` }
}

function lookupForm(identifier: string | undefined, process: string | undefined): Html {
  return html`<section class="card"><form class="filters" method="get" action="/capabilities">
<div class="wide"><label for="c-identifier">Organisation number, fødselsnummer or NHN identifier</label>
<input id="c-identifier" type="search" name="identifier" value="${identifier ?? ''}" required></div>
<div class="wide"><label for="c-process">Only this process (optional)</label>
<input id="c-process" type="text" name="process" value="${process ?? ''}"
placeholder="urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"></div>
<div class="wide actions"><button type="submit">Look up</button></div></form></section>`
}

function result(identifier: string, info: InfoRecord | null, caps: Capability[], sending: Sending): Html {
  const who = info?.organizationName
    ? html`<p><b>${info.organizationName}</b> <span class="muted">${info.entityType?.acronym ?? info.entityType?.name ?? ''}</span></p>`
    : ''
  const rows = caps.map(
    (
      c,
    ) => html`<tr data-service="${c.serviceIdentifier}"><td>${c.serviceIdentifier}</td><td class="mono">${c.process ?? ''}</td>
<td>${c.documentTypes.map((d) => html`<div><span class="mono">${d.type ?? d.standard}</span>${d.type ? html` <span class="muted mono">${d.standard}</span>` : ''}</div>`)}</td>
<td>${dpiDetails(c)}</td><td class="from-here">${fromHere(c.serviceIdentifier, sending)}</td></tr>`,
  )
  return html`<section class="card" id="capabilities"><h2>What the ServiceRegistry says of <code>${identifier}</code></h2>${who}
${
  rows.length
    ? html`<div class="table-wrap"><table><thead><tr><th>Service</th><th>Process</th><th>Document types</th>
<th>Digital post</th><th>From here</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p class="muted">No service can reach this receiver.</p>`
}</section>`
}

function dpiDetails(c: Capability): Html | string {
  if (!c.digitalPostAddress && !c.postAddress) return ''
  const address = c.postAddress
    ? [c.postAddress.name, c.postAddress.street, c.postAddress.postalCode, c.postAddress.postalArea]
        .filter(Boolean)
        .join(', ')
    : ''
  return html`${c.digitalPostAddress?.supplier ? html`<div>Mailbox ${c.digitalPostAddress.supplier} ${c.digitalPostAddress.address ?? ''}</div>` : ''}
${address ? html`<div class="muted">${address}</div>` : ''}`
}
