import { afterEach, describe, expect, it } from 'vitest'
import { openssl, opensslAvailable } from '../../packaging/test-support.js'
import {
  basic,
  fiksHeaders,
  forsendelse,
  harness,
  KOMMUNE,
  KONTO_A,
  multipart,
  ORG_A,
  ORG_B,
  opensslDecrypt,
  sha256,
  unzip,
} from './test-support.js'

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

async function start(opts: Parameters<typeof harness>[0] = {}) {
  const h = await harness(opts)
  open.push(h)
  return h
}

const PDF = Buffer.from('%PDF-1.4 vedtak\n%%EOF\n')

describe('sending a forsendelse (REST v3)', () => {
  it('answers 200 {id}, decrypts each document with SvarUt’s key and keeps what it got', async () => {
    const h = await start()
    const f = forsendelse({
      dokumenter: [
        { filnavn: 'vedtak.pdf', mimeType: 'application/pdf', skalEkskluderesFraUtskrift: false },
        { filnavn: 'vedlegg.docx', mimeType: 'application/msword', skalEkskluderesFraUtskrift: true },
      ],
    })
    const docx = Buffer.from('not really a docx')
    const res = await h.send(f, [
      { name: 'vedtak.pdf', bytes: PDF },
      { name: 'vedlegg.docx', bytes: docx, type: 'application/msword' },
    ])
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const { id } = await res.json()
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const items = await (await h.call(`/sandbox/api/forsendelser?mottaker=${KOMMUNE}`)).json()
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({
      id,
      eksternRef: f.eksternReferanse,
      tittel: 'Vedtak i sak 2026/12',
      // the municipality has no SvarInn here: SvarUt notifies it and it reads in its mailbox
      status: 'VARSLET',
      avsender: ORG_A,
      kontoId: KONTO_A,
      dokumenter: [
        { filnavn: 'vedtak.pdf', size: PDF.length, sha256: sha256(PDF) },
        { filnavn: 'vedlegg.docx', size: docx.length, sha256: sha256(docx) },
      ],
    })
    const doc = await h.call(`/sandbox/forsendelser/${id}/dokumenter/0`)
    expect(Buffer.from(await doc.arrayBuffer())).toEqual(PDF)
  })

  it('takes a forsendelse part sent as a file or as text/plain, and documents in plaintext when kryptert=false', async () => {
    const h = await start()
    const f = forsendelse({ kryptert: false })
    const { body, contentType } = multipart([
      { name: 'forsendelse', filename: 'forsendelse.json', type: 'text/plain', body: JSON.stringify(f) },
      { name: 'whatever', filename: 'vedtak.pdf', type: 'application/pdf', body: PDF },
    ])
    const res = await h.call(`/api/v3/kontoer/${KONTO_A}/forsendelser/organisasjon`, {
      method: 'POST',
      headers: { ...fiksHeaders(ORG_A), 'content-type': contentType },
      body: new Uint8Array(body),
    })
    expect(res.status).toBe(200)
    const items = await (await h.call('/sandbox/api/forsendelser')).json()
    expect(items[0].dokumenter[0].sha256).toBe(sha256(PDF))
  })

  it('decrypts what openssl cms -encrypt wrote to SvarUt’s certificate', async () => {
    if (!opensslAvailable()) return
    const h = await start()
    const cert = await (await h.call('/sandbox/api/certificate')).text()
    expect(cert).toBe(h.svarut.certificatePem)
    const { writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    writeFileSync(join(h.idDir, 'svarut.crt'), cert)
    writeFileSync(join(h.idDir, 'doc.pdf'), PDF)
    const cms = openssl([
      'cms',
      '-encrypt',
      '-binary',
      '-aes-256-cbc',
      '-outform',
      'DER',
      '-in',
      join(h.idDir, 'doc.pdf'),
      '-recip',
      join(h.idDir, 'svarut.crt'),
      '-keyopt',
      'rsa_padding_mode:oaep',
      '-keyopt',
      'rsa_oaep_md:sha256',
    ])
    const res = await h.send(forsendelse(), [{ name: 'vedtak.pdf', bytes: cms }], { plain: true })
    expect(res.status).toBe(200)
    const items = await (await h.call('/sandbox/api/forsendelser')).json()
    expect(items[0].dokumenter[0].sha256).toBe(sha256(PDF))
  })
})

describe('SvarInn', () => {
  it('lists a forsendelse for the receiver’s mottakersystem, serves CMS(zip) to its certificate, LEST on kvitterMottak', async () => {
    const h = await start()
    const f = forsendelse({
      mottaker: { navn: 'Sandkasse B', digitalId: ORG_B },
      dokumenter: [
        { filnavn: 'brev.pdf', mimeType: 'application/pdf' },
        { filnavn: 'vedlegg.pdf', mimeType: 'application/pdf' },
      ],
    })
    const second = Buffer.from('%PDF-1.4 vedlegg')
    const { id } = await (
      await h.send(f, [
        { name: 'brev.pdf', bytes: PDF },
        { name: 'vedlegg.pdf', bytes: second },
      ])
    ).json()
    // A's own mottakersystem sees nothing; B's sees it
    const none = await h.call('/tjenester/svarinn/mottaker/hentNyeForsendelser', {
      headers: { authorization: basic(ORG_A) },
    })
    expect(await none.json()).toEqual([])
    const list = await (
      await h.call('/tjenester/svarinn/mottaker/hentNyeForsendelser', {
        headers: { authorization: basic(ORG_B) },
      })
    ).json()
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({
      id,
      tittel: f.tittel,
      status: 'Klar for mottak',
      niva: '3',
      eksternRef: f.eksternReferanse,
      mottaker: { orgnr: ORG_B, navn: 'Sandkasse B' },
      svarSendesTil: {
        orgnr: ORG_A,
        navn: 'Sandkasse A',
        adresse1: 'Portveien 2',
        postnr: '0468',
        poststed: 'OSLO',
      },
      metadataFraAvleverendeSystem: {
        saksaar: 2026,
        sakssekvensnummer: 12,
        journalposttype: 'U',
        saksBehandler: 'Kari Nordmann',
        journaldato: Date.parse('2026-08-20T00:00:00+02:00'),
      },
      filmetadata: [
        { filnavn: 'brev.pdf', mimetype: 'application/pdf', sha256hash: sha256(PDF), size: PDF.length },
        {
          filnavn: 'vedlegg.pdf',
          mimetype: 'application/pdf',
          sha256hash: sha256(second),
          size: second.length,
        },
      ],
      downloadUrl: `${h.svarut.url}/tjenester/svarinn/forsendelse/${id}`,
    })
    const status = async () =>
      (await (await h.call(`/sandbox/api/forsendelser/${id}`)).json()).status as string
    expect(await status()).toBe('KLAR_FOR_MOTTAK')

    const dl = await fetch(list[0].downloadUrl, { headers: { authorization: basic(ORG_B) } })
    expect(dl.status).toBe(200)
    expect(dl.headers.get('content-disposition')).toBe(`attachment; filename="${id}.zip"`)
    const cms = Buffer.from(await dl.arrayBuffer())
    if (opensslAvailable()) {
      const entries = await unzip(opensslDecrypt(h.idDir, h.b, cms))
      expect([...entries.keys()]).toEqual(['brev.pdf', 'vedlegg.pdf'])
      expect(entries.get('brev.pdf')).toEqual(PDF)
      expect(entries.get('vedlegg.pdf')).toEqual(second)
      // not to anyone else
      expect(() => opensslDecrypt(h.idDir, h.a, cms)).toThrow()
    }
    // another mottakersystem cannot download it
    expect((await fetch(list[0].downloadUrl, { headers: { authorization: basic(ORG_A) } })).status).toBe(404)

    const kvitter = `/tjenester/svarinn/kvitterMottak/forsendelse/${id}`
    expect((await h.call(kvitter, { method: 'POST', headers: { authorization: basic(ORG_B) } })).status).toBe(
      200,
    )
    expect(await status()).toBe('LEST')
    // again: harmless
    expect((await h.call(kvitter, { method: 'POST', headers: { authorization: basic(ORG_B) } })).status).toBe(
      200,
    )
    const after = await h.call('/tjenester/svarinn/mottaker/hentNyeForsendelser', {
      headers: { authorization: basic(ORG_B) },
    })
    expect(await after.json()).toEqual([])
  })

  it('mottakFeilet: a passing failure is only recorded, a permanent one sends it the notice way (VARSLET)', async () => {
    const h = await start()
    const { id } = await (
      await h.send(forsendelse({ mottaker: { navn: 'B', digitalId: ORG_B } }), [
        { name: 'vedtak.pdf', bytes: PDF },
      ])
    ).json()
    const feilet = (permanent: boolean) =>
      h.call(`/tjenester/svarinn/mottakFeilet/forsendelse/${id}`, {
        method: 'POST',
        headers: { authorization: basic(ORG_B), 'content-type': 'application/json' },
        body: JSON.stringify({ feilmelding: permanent ? 'kan ikke dekryptere' : 'database nede', permanent }),
      })
    expect((await feilet(false)).status).toBe(200)
    let item = await (await h.call(`/sandbox/api/forsendelser/${id}`)).json()
    expect(item.status).toBe('KLAR_FOR_MOTTAK')
    expect(item.hendelser.map((x: { hendelse: string }) => x.hendelse)).toContain(
      `Mottak feilet hos ${ORG_B}: database nede`,
    )
    expect((await feilet(true)).status).toBe(200)
    item = await (await h.call(`/sandbox/api/forsendelser/${id}`)).json()
    expect(item.status).toBe('VARSLET')
    const list = await h.call('/tjenester/svarinn/mottaker/hentNyeForsendelser', {
      headers: { authorization: basic(ORG_B) },
    })
    expect(await list.json()).toEqual([])
  })

  it('refuses wrong Basic credentials with 401 and a challenge', async () => {
    const h = await start()
    for (const authorization of [undefined, basic(ORG_B, 'wrong'), basic('nobody'), 'Bearer x']) {
      const res = await h.call('/tjenester/svarinn/mottaker/hentNyeForsendelser', {
        headers: authorization ? { authorization } : {},
      })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/)
      expect((await res.json()).status).toBe(401)
    }
  })
})
