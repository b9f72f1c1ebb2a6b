import { formatOslo } from '../../util/time.js'
import { esc } from '../page-text.js'
import type { DokumentRow, ForsendelseRow } from './store.js'

/**
 * The sandbox page: every receiver's forsendelser with their documents (download links) and status,
 * and a Read button doing what the receiver does in its mailbox. Plain HTML, no script.
 */
export interface PageItem {
  row: ForsendelseRow
  dokumenter: DokumentRow[]
  readable: boolean
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#1a1a1a}
h2{margin-top:2rem;border-bottom:1px solid #ccc}article{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
.status{font-weight:600}.meta{color:#555;font-size:.9rem}`

export function renderPage(items: PageItem[], mottaker: string | undefined): string {
  const byReceiver = new Map<string, PageItem[]>()
  for (const item of items)
    byReceiver.set(item.row.mottaker_orgnr, [...(byReceiver.get(item.row.mottaker_orgnr) ?? []), item])
  const sections = [...byReceiver].map(
    ([orgnr, list]) =>
      `<section><h2>Forsendelser to ${esc(orgnr)} <a class="meta" href="?mottaker=${esc(encodeURIComponent(orgnr))}">only this</a></h2>${list
        .slice()
        .reverse()
        .map((item) => article(item, mottaker))
        .join('')}</section>`,
  )
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>KS SvarUt stand-in</title>
<style>${STYLE}</style></head><body><h1>KS SvarUt and SvarInn stand-in</h1>
<form method="get"><label>Receiver (organisation number) <input name="mottaker" value="${esc(mottaker)}"></label>
<button>Show</button> <a href="?">all</a></form>
${sections.join('') || '<p>No forsendelser yet.</p>'}</body></html>`
}

function article({ row, dokumenter, readable }: PageItem, mottaker: string | undefined): string {
  const files = dokumenter.map(
    (d) =>
      `<li><a href="/sandbox/forsendelser/${esc(row.id)}/dokumenter/${d.idx}">${esc(d.filnavn)}</a> <span class="meta">${esc(d.mime_type)}, ${d.size} bytes</span></li>`,
  )
  const back = mottaker ? `?mottaker=${esc(encodeURIComponent(mottaker))}` : ''
  return `<article><h3>${esc(row.tittel)}</h3>
<p class="meta">from ${esc(row.avsender_orgnr)} to ${esc(row.mottaker_orgnr)} · ${esc(row.id)}${row.eksternref ? ` · eksternRef ${esc(row.eksternref)}` : ''}${row.mottakersystem ? ` · SvarInn ${esc(row.mottakersystem)}` : ''}</p>
<p><span class="status">${esc(row.status)}</span> <span class="meta">since ${esc(formatOslo(row.status_changed))}</span></p>
<ul>${files.join('')}</ul>
${readable ? `<form method="post" action="/sandbox/forsendelser/${esc(row.id)}/read${back}"><button>Read</button></form>` : ''}</article>`
}
