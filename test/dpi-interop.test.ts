// What the integration point really sends to the DPI access point, checked with independent tools only
// (openssl, xmlsec1, unzip, xmllint, Ajv with the published JSON schemas), never with our own reader: the
// JWS and the CMS package are taken as the access point stand-in stored them.

import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import SQLite from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { ajvErrors, hasDpiSchemas } from '../src/sbd/dpi-ajv.fixtures.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { DIGITAL_PERSON, type DpiWorld, PRINT_PERSON, SENDER, startDpiWorld } from './support/dpi-world.js'
import { json } from './support/poll.js'

warnIfPostgresSkipped()

type Json = Record<string, any>

const TOOLS = ['openssl', 'xmlsec1', 'unzip', 'xmllint']
const missing = TOOLS.filter((t) => spawnSync(t, ['--version']).error !== undefined)
if (missing.length > 0)
  console.warn(
    `[tests] SKIPPED test/dpi-interop.test.ts: ${missing.join(', ')} not installed (apt-get install openssl xmlsec1 unzip libxml2-utils)`,
  )
if (!hasDpiSchemas)
  console.warn('[tests] the DPI JSON schemas are absent: the business messages are not checked with Ajv')

const MAILBOX_PROVIDER = '910094548'
const PRINT_PROVIDER = '910085379'
const MAIN = 'vedtak om plass ø.pdf'
const PDF = Buffer.from(`%PDF-1.4 vedtak ${'ø'.repeat(20_000)}`)
const HTML = Buffer.from('<html><body>Informasjon om plassen</body></html>')
const LENKE = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><lenke xmlns="http://begrep.difi.no/sdp/utvidelser/lenke"><url>https://example.invalid/svar</url></lenke>',
)

/** [filename, bytes, mime type, title (the multipart part's name)] */
type Upload = [string, Buffer, string, string]
const DIGITAL_FILES: Upload[] = [
  [MAIN, PDF, 'application/pdf', 'Vedtak'],
  ['info.html', HTML, 'text/html', 'Informasjon om plassen'],
  ['vedtak-lenke.xml', LENKE, 'application/vnd.difi.dpi.lenke+xml', 'lenke'],
]
const PRINT_FILES: Upload[] = [
  [MAIN, PDF, 'application/pdf', 'Vedtak'],
  ['info.html', HTML, 'text/html', 'Informasjon om plassen'],
]

/** Sends a letter made from the prototype of `type`, edited by `edit`, one-step multipart. */
async function send(
  w: DpiWorld,
  type: 'digital' | 'print',
  person: string,
  edit: (b: Json) => void,
  files: Upload[],
) {
  const proto = await json(`${w.ip.url}/api/prototype/${type}?receiverIdentifier=${person}`)
  expect(proto.status, JSON.stringify(proto.body)).toBe(200)
  const sbd = proto.body
  sbd[type] = { ...sbd[type], hoveddokument: MAIN }
  edit(sbd[type])
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  for (const [name, bytes, mime, title] of files)
    form.append(title, new Blob([new Uint8Array(bytes)], { type: mime }), name)
  const res = await fetch(`${w.ip.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.text()).toBe(200)
  return sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier as string
}

/** The JWS and the package file the stand-in stored for the letter, read from its own database. */
function received(w: DpiWorld, messageId: string): { jws: string; packagePath: string } {
  // the stand-in's data dir sits beside the registry's (test/support/dpi-world.ts)
  const db = new SQLite(join(dirname(w.registryDir), 'dpi', 'dpi.sqlite'), { readonly: true })
  try {
    const row = db
      .prepare('SELECT forretningsmelding, package_path FROM letter WHERE id = ?')
      .get(messageId) as { forretningsmelding: string; package_path: string } | undefined
    if (!row) throw new Error(`the stand-in stored no letter ${messageId}`)
    return { jws: row.forretningsmelding, packagePath: row.package_path }
  } finally {
    db.close()
  }
}

const UTF8 = { ...process.env, LC_ALL: 'C.UTF-8' }
function tool(cmd: string, args: string[], cwd?: string): SpawnSyncReturns<Buffer> {
  return spawnSync(cmd, args, { cwd, env: UTF8, maxBuffer: 64 * 1024 * 1024 })
}
/** runs a tool that must succeed; its stdout and stderr as text */
function ok(cmd: string, args: string[], cwd?: string): string {
  const r = tool(cmd, args, cwd)
  const out = r.stdout.toString() + r.stderr.toString()
  expect(r.status, `${cmd} ${args.join(' ')}: ${out}`).toBe(0)
  return out
}
const certDer = (args: string[]) => tool('openssl', ['x509', ...args, '-outform', 'DER']).stdout

/**
 * The JWS with openssl: the header is exactly {"x5c":[one certificate],"alg":"RS256"}, that certificate is
 * the sender's in the registry's data dir, and `openssl dgst -verify` verifies the signature with its key
 * (and refuses a changed payload). Answers the payload.
 */
function checkJws(jws: string, senderCertPath: string, dir: string): Json {
  const parts = jws.split('.')
  expect(parts).toHaveLength(3)
  const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'))
  expect(Object.keys(header)).toEqual(['x5c', 'alg'])
  expect(header.alg).toBe('RS256')
  expect(header.x5c).toHaveLength(1)
  const x5c = join(dir, 'x5c.der')
  writeFileSync(x5c, Buffer.from(header.x5c[0], 'base64'))
  const fromX5c = certDer(['-inform', 'DER', '-in', x5c])
  expect(fromX5c.length).toBeGreaterThan(0)
  expect(fromX5c.equals(certDer(['-in', senderCertPath]))).toBe(true)
  const pub = join(dir, 'pub.pem')
  ok('openssl', ['x509', '-inform', 'DER', '-in', x5c, '-pubkey', '-noout', '-out', pub])
  const sig = join(dir, 'sig.bin')
  writeFileSync(sig, Buffer.from(parts[2]!, 'base64url'))
  const input = join(dir, 'signing-input')
  writeFileSync(input, `${parts[0]}.${parts[1]}`)
  const verify = () => tool('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, input])
  expect(verify().stdout.toString().trim()).toBe('Verified OK')
  writeFileSync(input, `${parts[0]}.${parts[1]}x`)
  expect(verify().stdout.toString().trim()).toBe('Verification failure')
  return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
}

/**
 * The package with openssl, unzip, xmlsec1 and xmllint: its SHA-256 is the business message's
 * fingerprint, the provider's key decrypts it, its entries are in order, signatures.xml verifies from the
 * unpacked root with the sender's certificate (and not once a document changed), manifest.xml is
 * well-formed. Answers the unpacked root and xpath on manifest.xml.
 */
function checkPackage(o: {
  cmsPath: string
  provider: string
  registryDir: string
  senderCertPath: string
  fingerprint: string
  entries: string[]
  dir: string
}): { root: string; xpath: (path: string) => string } {
  const digest = tool('openssl', ['dgst', '-sha256', '-binary', o.cmsPath]).stdout
  expect(digest.toString('base64')).toBe(o.fingerprint)
  const zip = join(o.dir, 'asic.zip')
  ok('openssl', [
    'cms',
    '-decrypt',
    '-inform',
    'DER',
    '-in',
    o.cmsPath,
    '-recip',
    join(o.registryDir, 'certs', `${o.provider}.cert.pem`),
    '-inkey',
    join(o.registryDir, 'keys', `${o.provider}.key.pem`),
    '-binary',
    '-out',
    zip,
  ])
  expect(ok('unzip', ['-Z1', zip]).trim().split('\n')).toEqual(o.entries)
  const root = join(o.dir, 'asic')
  mkdirSync(root)
  ok('unzip', ['-q', zip, '-d', root])
  const xmlsec = () =>
    tool(
      'xmlsec1',
      [
        '--verify',
        '--trusted-pem',
        o.senderCertPath,
        '--id-attr:Id',
        'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
        'META-INF/signatures.xml',
      ],
      root,
    )
  const verified = xmlsec()
  const said = verified.stdout.toString() + verified.stderr.toString()
  expect(verified.status, said).toBe(0)
  // every entry but mimetype and the signature itself, and the SignedProperties
  const refs = o.entries.length - 1
  expect(said).toMatch(/^OK$/m)
  expect(said).toContain(`SignedInfo References (ok/all): ${refs}/${refs}`)
  ok('xmllint', ['--noout', join(root, 'manifest.xml')])
  // xmllint ends what it prints with a newline
  const xpath = (path: string) =>
    ok('xmllint', ['--xpath', `string(${localNames(path)})`, join(root, 'manifest.xml')]).replace(/\n$/, '')
  // one changed byte in a document, and xmlsec1 refuses the signature
  const main = join(root, o.entries[2]!)
  const bytes = readFileSync(main)
  writeFileSync(main, Buffer.concat([bytes, Buffer.from(' ')]))
  expect(xmlsec().status).not.toBe(0)
  writeFileSync(main, bytes)
  return { root, xpath }
}

/** `/manifest/avsender/@x` as `/*[local-name()='manifest']/*[local-name()='avsender']/@x` */
const localNames = (path: string) =>
  path.replace(/\/([a-zA-Z]+)/g, (_, n: string) => `/*[local-name()='${n}']`)

const isJwt = (token: unknown) => {
  expect(typeof token).toBe('string')
  const parts = (token as string).split('.')
  expect(parts).toHaveLength(3)
  return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Json
}

describe.skipIf(missing.length > 0).each(STORES)('what the integration point sends to DPI (%s)', (kind) => {
  let w: DpiWorld | undefined
  let dir: string | undefined
  afterEach(async () => {
    await w?.close()
    w = undefined
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  const senderCert = () => join(w!.registryDir, 'certs', `${SENDER}.cert.pem`)

  it('a digital letter with every option: the JWS, the business message and the package pass the tools', async () => {
    w = await startDpiWorld(kind)
    dir = mkdtempSync(join(tmpdir(), 'dpi-interop-'))
    const messageId = await send(
      w,
      'digital',
      DIGITAL_PERSON,
      (b) =>
        Object.assign(b, {
          avsenderId: 'barnehage-2026',
          fakturaReferanse: 'FAKTURA-42',
          sikkerhetsnivaa: 4,
          tittel: 'Vedtak om barnehageplass',
          spraak: 'EN',
          digitalPostInfo: { virkningsdato: '2026-12-24', aapningskvittering: true },
          varsler: { epostTekst: 'Du har fått post', smsTekst: 'Du har post' },
          metadataFiler: { [MAIN]: 'vedtak-lenke.xml' },
        }),
      DIGITAL_FILES,
    )
    await w.untilStatuses(messageId, ['LEVERT'])
    const got = received(w, messageId)
    const payload = checkJws(got.jws, senderCert(), dir)
    if (hasDpiSchemas) expect(ajvErrors('digital', payload)).toEqual([])
    const sbd = payload.standardBusinessDocument
    const head = sbd.standardBusinessDocumentHeader
    expect(head.sender[0].identifier.value).toBe(`0192:${SENDER}`)
    expect(head.receiver[0].identifier.value).toBe(`0192:${MAILBOX_PROVIDER}`)
    expect(head.documentIdentification).toMatchObject({ type: 'digital', instanceIdentifier: messageId })
    const d = sbd.digital
    expect(d.avsender).toEqual({
      virksomhetsidentifikator: { authority: 'iso6523-actorid-upis', value: `0192:${SENDER}` },
      avsenderidentifikator: 'barnehage-2026',
      fakturaReferanse: 'FAKTURA-42',
    })
    expect(d.mottaker).toEqual({ postkasseadresse: 'ola.digital#1A2B' })
    expect(d).toMatchObject({
      sikkerhetsnivaa: 4,
      aapningskvittering: true,
      ikkesensitivtittel: 'Vedtak om barnehageplass',
      spraak: 'EN',
    })
    expect(d.virkningstidspunkt).toMatch(/^2026-12-24T00:00:00(\.0+)?\+01:00$/)
    expect(d.varsler).toEqual({
      epostvarsel: {
        epostadresse: 'ola.digital@example.invalid',
        varslingstekst: 'Du har fått post',
        repetisjoner: [0, 7],
      },
      smsvarsel: { mobiltelefonnummer: '+4799999901', varslingstekst: 'Du har post', repetisjoner: [0, 7] },
    })
    const claims = isJwt(d.maskinportentoken)
    expect(claims.scope.split(' ')).toContain('digitalpostinnbygger:send')
    expect(d.dokumentpakkefingeravtrykk.digestMethod).toBe('http://www.w3.org/2001/04/xmlenc#sha256')

    const { root, xpath } = checkPackage({
      cmsPath: got.packagePath,
      provider: MAILBOX_PROVIDER,
      registryDir: w.registryDir,
      senderCertPath: senderCert(),
      fingerprint: d.dokumentpakkefingeravtrykk.digestValue,
      entries: ['mimetype', 'manifest.xml', MAIN, 'info.html', 'vedtak-lenke.xml', 'META-INF/signatures.xml'],
      dir,
    })
    for (const [name, bytes] of DIGITAL_FILES)
      expect(readFileSync(join(root, name)).equals(bytes), name).toBe(true)
    expect(xpath('/manifest/avsender/organisasjon')).toBe(d.avsender.virksomhetsidentifikator.value)
    expect(xpath('/manifest/avsender/avsenderidentifikator')).toBe('barnehage-2026')
    expect(xpath('/manifest/avsender/fakturaReferanse')).toBe('FAKTURA-42')
    expect(xpath('/manifest/mottaker/person/postkasseadresse')).toBe(d.mottaker.postkasseadresse)
    expect(xpath('/manifest/hoveddokument/@href')).toBe(MAIN)
    expect(xpath('/manifest/hoveddokument/tittel')).toBe('Vedtak')
    expect(xpath('/manifest/hoveddokument/tittel/@lang')).toBe('EN')
    expect(xpath('/manifest/hoveddokument/data/@href')).toBe('vedtak-lenke.xml')
    expect(xpath('/manifest/hoveddokument/data/@mime')).toBe('application/vnd.difi.dpi.lenke+xml')
    expect(xpath('/manifest/vedlegg/@href')).toBe('info.html')
    expect(xpath('/manifest/vedlegg/tittel')).toBe('Informasjon om plassen')
  })

  it('a print letter abroad with every option: the JWS, the business message and the package pass the tools', async () => {
    w = await startDpiWorld(kind)
    dir = mkdtempSync(join(tmpdir(), 'dpi-interop-'))
    const messageId = await send(
      w,
      'print',
      PRINT_PERSON,
      (b) =>
        Object.assign(b, {
          avsenderId: 'barnehage-2026',
          fakturaReferanse: 'FAKTURA-43',
          mottaker: {
            navn: 'Kari Papir Utskrift',
            adresselinje1: 'Rue de Rivoli 1',
            postnummer: '75001',
            poststed: 'Paris',
            land: 'Frankrike',
          },
          utskriftsfarge: 'FARGE',
          posttype: 'A_PRIORITERT',
          retur: {
            mottaker: {
              navn: 'Barnehagekontoret',
              adresselinje1: 'Postboks 1',
              postnummer: '0101',
              poststed: 'OSLO',
            },
            returhaandtering: 'MAKULERING_MED_MELDING',
          },
        }),
      PRINT_FILES,
    )
    await w.untilStatuses(messageId, ['LEVERT'])
    const got = received(w, messageId)
    const payload = checkJws(got.jws, senderCert(), dir)
    if (hasDpiSchemas) expect(ajvErrors('utskrift', payload)).toEqual([])
    const sbd = payload.standardBusinessDocument
    expect(sbd.standardBusinessDocumentHeader.receiver[0].identifier.value).toBe(`0192:${PRINT_PROVIDER}`)
    expect(sbd.standardBusinessDocumentHeader.documentIdentification.type).toBe('utskrift')
    const u = sbd.utskrift
    expect(u.avsender).toEqual({
      virksomhetsidentifikator: { authority: 'iso6523-actorid-upis', value: `0192:${SENDER}` },
      avsenderidentifikator: 'barnehage-2026',
      fakturaReferanse: 'FAKTURA-43',
    })
    // abroad: "postnummer poststed" moves into the first free address line, land is kept
    expect(u.mottaker).toEqual({
      navn: 'Kari Papir Utskrift',
      adresselinje1: 'Rue de Rivoli 1',
      adresselinje2: '75001 Paris',
      land: 'Frankrike',
    })
    expect(u.utskriftstype).toBe('FARGE')
    expect(u.posttype).toBe('A')
    expect(u.retur).toEqual({
      mottaker: {
        navn: 'Barnehagekontoret',
        adresselinje1: 'Postboks 1',
        postnummer: '0101',
        poststed: 'OSLO',
      },
      returposthaandtering: 'MAKULERING_MED_MELDING',
    })
    isJwt(u.maskinportentoken)

    const { root, xpath } = checkPackage({
      cmsPath: got.packagePath,
      provider: PRINT_PROVIDER,
      registryDir: w.registryDir,
      senderCertPath: senderCert(),
      fingerprint: u.dokumentpakkefingeravtrykk.digestValue,
      entries: ['mimetype', 'manifest.xml', MAIN, 'info.html', 'META-INF/signatures.xml'],
      dir,
    })
    for (const [name, bytes] of PRINT_FILES)
      expect(readFileSync(join(root, name)).equals(bytes), name).toBe(true)
    expect(xpath('/manifest/avsender/organisasjon')).toBe(u.avsender.virksomhetsidentifikator.value)
    // as the reference: a print manifest names no mailbox
    expect(xpath('count(/manifest/mottaker)')).toBe('0')
  })
})
