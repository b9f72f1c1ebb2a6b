// The stand-in with its real mailbox and printer: packages made by our DPI package writer, opened by
// mailbox.ts with the provider's generated key, answered with receipts the registry's certificate verifies.

import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { writeDpiPackage } from '../../packaging/dpi-package.js'
import { verifyJws } from '../../packaging/jws.js'
import {
  type Harness,
  harness,
  MAILBOX_PROVIDER,
  ORG_A,
  orgKeys,
  PRINT_PROVIDER,
  peek,
  poll,
  send,
  signedLetter,
  startRegistry,
  tempDir,
  token,
} from './test-support.js'

let registry: Awaited<ReturnType<typeof startRegistry>>
const work = tempDir('dpi-e2e-')
beforeAll(async () => {
  registry = await startRegistry()
}, 60_000)
afterAll(async () => {
  await registry?.close()
  work.remove()
})

const open: Harness[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

const VEDTAK = Buffer.from('%PDF-1.4 vedtak om barnehageplass\n%%EOF\n')

/** a package from ORG_A encrypted to `provider`'s certificate as the registry publishes it */
async function packageFor(provider: string, postkasseadresse: string | null): Promise<Buffer> {
  const recipientCertPem = await (await fetch(`${registry.url}/virksert/${provider}`)).text()
  const pkg = await writeDpiPackage({
    manifest: { postkasseadresse, avsender: `0192:${ORG_A}`, language: 'NO' },
    documents: [
      {
        filename: 'vedtak.pdf',
        mimeType: 'application/pdf',
        title: 'Vedtak',
        primary: true,
        open: () => Readable.from([VEDTAK]),
      },
    ],
    signer: orgKeys(registry.dataDir, ORG_A),
    now: () => new Date(),
    recipientCertPem,
    tempDir: work.path,
  })
  const bytes = readFileSync(pkg.path)
  await pkg.remove()
  return bytes
}

async function receipts(h: Harness, n: number) {
  return vi.waitFor(
    async () => {
      const { items } = await poll(h.url, token())
      if (items.length < n) throw new Error(`${items.length} of ${n} receipts`)
      return items
    },
    { timeout: 10_000, interval: 25 },
  )
}

async function signedBy(jws: string, provider: string) {
  const { certificate } = await verifyJws(jws)
  const published = await (await fetch(`${registry.url}/virksert/${provider}`)).text()
  expect(certificate.raw.equals(new X509Certificate(published).raw)).toBe(true)
  return peek(jws)
}

describe('letters through the real mailbox and printer', () => {
  it('digital: the mailbox opens the package, LEVERT, and the document is the one sent', async () => {
    const h = await harness(registry)
    open.push(h)
    const pkg = await packageFor(MAILBOX_PROVIDER, 'ola.digital#1A2B')
    const l = await signedLetter(registry.dataDir, { type: 'digital', pkg })
    expect((await send(h.url, l)).status).toBe(201)
    const [item] = await receipts(h, 1)
    expect((await signedBy(item!.forretningsmelding, MAILBOX_PROVIDER)).type).toBe('leveringskvittering')
    const [message] = (await (await fetch(`${h.url}/sandbox/api/messages?recipient=01819040180`)).json()) as {
      status: string
      documents: { href: string; title: string; url: string }[]
    }[]
    expect(message).toMatchObject({ status: 'LEVERT', documents: [{ href: 'vedtak.pdf', title: 'Vedtak' }] })
    const doc = await fetch(message!.documents[0]!.url)
    expect(Buffer.from(await doc.arrayBuffer()).equals(VEDTAK)).toBe(true)
  })

  it('print: mottakskvittering and leveringskvittering from the printer', async () => {
    const h = await harness(registry)
    open.push(h)
    const pkg = await packageFor(PRINT_PROVIDER, null)
    const l = await signedLetter(registry.dataDir, { type: 'utskrift', pkg })
    expect((await send(h.url, l)).status).toBe(201)
    const items = await receipts(h, 2)
    const types = []
    for (const i of items) types.push((await signedBy(i.forretningsmelding, PRINT_PROVIDER)).type)
    expect(types).toEqual(['mottakskvittering', 'leveringskvittering'])
  })

  it('a package for another mailbox address is refused with a feil KLIENT saying why', async () => {
    const h = await harness(registry)
    open.push(h)
    const pkg = await packageFor(MAILBOX_PROVIDER, 'someone.else#9Z9Z')
    const l = await signedLetter(registry.dataDir, { type: 'digital', pkg })
    expect((await send(h.url, l)).status).toBe(201)
    const [item] = await receipts(h, 1)
    const receipt = await signedBy(item!.forretningsmelding, MAILBOX_PROVIDER)
    expect(receipt).toMatchObject({ type: 'feil', body: { feiltype: 'KLIENT' } })
    expect(receipt.body.detaljer).toMatch(/someone\.else#9Z9Z/)
  })

  it('a package encrypted to another provider cannot be opened: feil KLIENT', async () => {
    const h = await harness(registry)
    open.push(h)
    const pkg = await packageFor(PRINT_PROVIDER, 'ola.digital#1A2B')
    const l = await signedLetter(registry.dataDir, { type: 'digital', pkg })
    expect((await send(h.url, l)).status).toBe(201)
    const [item] = await receipts(h, 1)
    expect(await signedBy(item!.forretningsmelding, MAILBOX_PROVIDER)).toMatchObject({
      type: 'feil',
      body: { feiltype: 'KLIENT' },
    })
  })
})
