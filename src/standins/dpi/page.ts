// The DPI stand-in's page at /sandbox: each person's mailbox with the letters it holds, and the
// printer's tray, the documents as links, and an Open button doing what the person does in the
// mailbox (it makes the opening receipt). Plain HTML and a form, no script, like the other stand-ins'
// pages. Everything shown is the sender's text and is escaped.

import { esc } from '../page-text.js'

export interface PageMessage {
  messageId: string
  type: 'digital' | 'utskrift'
  status: string
  /** the sending organisation, `0192:<orgnr>` */
  sender: string
  title: string | null
  received: string
  documents: { href: string; title: string | null; mime: string; size: number; url: string }[]
  /** the types of the receipts made so far, in order */
  receipts: string[]
  /** where the Open button posts; only for digital letters not yet opened */
  openUrl?: string
}

export interface DpiPageView {
  mailboxes: { address: string; fnr: string | null; messages: PageMessage[] }[]
  printer: PageMessage[]
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#1a1a1a}
h2{margin-top:2rem;border-bottom:1px solid #ccc}article{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
.status{font-weight:600}.meta{color:#555;font-size:.9rem}`

export function dpiPage(view: DpiPageView): string {
  const mailboxes = view.mailboxes.map(
    (m) =>
      `<section><h2>Mailbox ${esc(m.address)}${m.fnr ? ` <span class="meta">(${esc(m.fnr)})</span>` : ''}</h2>` +
      `${list(m.messages, 'No letters in this mailbox.')}</section>`,
  )
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>DPI stand-in</title>
<style>${STYLE}</style></head><body><h1>DPI stand-in: mailboxes and printer</h1>
<form method="get"><label>Person (fødselsnummer) <input name="recipient" inputmode="numeric"></label>
<button>Show</button> <a href="?">all</a></form>
${mailboxes.join('\n') || '<p>No digital letters yet.</p>'}
<section><h2>Printer's tray</h2>${list(view.printer, 'No letters to print.')}</section></body></html>`
}

function list(messages: PageMessage[], empty: string): string {
  return messages.length === 0 ? `<p class="meta">${esc(empty)}</p>` : messages.map(article).join('\n')
}

function article(m: PageMessage): string {
  const documents = m.documents.map(
    (d) =>
      `<li><a href="${esc(d.url)}">${esc(d.title ?? d.href)}</a> <span class="meta">${esc(d.href)}, ${esc(d.mime)}, ${esc(d.size)} bytes</span></li>`,
  )
  const receipts = m.receipts.length > 0 ? ` · receipts: ${esc(m.receipts.join(', '))}` : ''
  const open = m.openUrl ? `<form method="post" action="${esc(m.openUrl)}"><button>Open</button></form>` : ''
  return `<article><h3>${esc(m.title ?? '(no title)')}</h3>
<p class="meta">${m.type === 'digital' ? 'digital letter' : 'letter to print'} from ${esc(m.sender)} · received ${esc(m.received)} · ${esc(m.messageId)}</p>
<p><span class="status">${esc(m.status)}</span><span class="meta">${receipts}</span></p>
<ul>${documents.join('')}</ul>${open}</article>`
}
