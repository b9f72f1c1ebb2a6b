import { describe, expect, it } from 'vitest'
import { dpiPage, type PageMessage } from './page.js'

const letter = (over: Partial<PageMessage> = {}): PageMessage => ({
  messageId: 'm-1',
  type: 'digital',
  status: 'LEVERT',
  sender: '0192:910075918',
  title: 'Vedtak',
  received: '2026-12-05 22:00',
  documents: [
    {
      href: 'vedtak.pdf',
      title: 'Vedtak',
      mime: 'application/pdf',
      size: 15,
      url: '/sandbox/messages/m-1/documents/0',
    },
  ],
  receipts: ['leveringskvittering'],
  openUrl: '/sandbox/messages/m-1/open',
  ...over,
})

describe('dpiPage', () => {
  it("shows each mailbox's letters with document links and an Open button, and the printer's tray", () => {
    const html = dpiPage({
      mailboxes: [{ address: 'ola.digital#1A2B', fnr: '01819040180', messages: [letter()] }],
      printer: [
        letter({ messageId: 'p-1', type: 'utskrift', title: 'Brev', openUrl: undefined, documents: [] }),
      ],
    })
    expect(html).toContain('Mailbox ola.digital#1A2B <span class="meta">(01819040180)</span>')
    expect(html).toContain('<a href="/sandbox/messages/m-1/documents/0">Vedtak</a>')
    expect(html).toContain(
      '<form method="post" action="/sandbox/messages/m-1/open"><button>Open</button></form>',
    )
    expect(html).toContain('receipts: leveringskvittering')
    const tray = html.slice(html.indexOf("Printer's tray"))
    expect(tray).toContain('letter to print from 0192:910075918')
    expect(tray).toContain('p-1')
    expect(tray).not.toContain('<button>Open</button>')
  })

  it('has no Open button for a letter without openUrl (already opened)', () => {
    const html = dpiPage({
      mailboxes: [{ address: 'a', fnr: null, messages: [letter({ openUrl: undefined, status: 'LEST' })] }],
      printer: [],
    })
    expect(html).not.toContain('<button>Open</button>')
    expect(html).toContain('No letters to print.')
  })

  it('escapes every value the sender chose', () => {
    const evil = '<script>alert("x")</script>'
    const html = dpiPage({
      mailboxes: [
        {
          address: `a"><img src=x onerror=1>`,
          fnr: null,
          messages: [
            letter({
              title: evil,
              sender: evil,
              documents: [{ href: evil, title: evil, mime: evil, size: 1, url: `javascript:"><b>` }],
              openUrl: `"><i>`,
            }),
          ],
        },
      ],
      printer: [],
    })
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('<img')
    expect(html).not.toContain('"><b>')
    expect(html).not.toContain('"><i>')
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')
  })

  it('says so when there are no letters', () => {
    expect(dpiPage({ mailboxes: [], printer: [] })).toContain('No digital letters yet.')
  })
})
