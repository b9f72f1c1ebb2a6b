// The organisation's business certificate ("virksomhetssertifikat") and key, from
// difi.move.org.keystore.* (Config.org.keystore). Node cannot read PKCS#12, so pkijs does (PBES2 /
// PBKDF2 / AES key stores as OpenSSL 3 and Java 11.0.12+ keytool write them); a PEM file with the key
// and the certificate chain is the alternative (type PEM). Checked once at start, with messages that
// say what to fix.

import { createPrivateKey, createPublicKey, type KeyObject, webcrypto, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as pkijs from 'pkijs'

export class KeystoreError extends Error {
  override name = 'KeystoreError'
}

export interface KeystoreConfig {
  path: string | null
  password: string | null
  alias: string | null
  type: string
}

export interface BusinessKeys {
  keyPem: string
  certPem: string
  /** the rest of the chain from the key store, leaf excluded */
  chainPem: string[]
}

const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto })
const KEY_BAG = '1.2.840.113549.1.12.10.1.2'
const PLAIN_KEY_BAG = '1.2.840.113549.1.12.10.1.1'
const CERT_BAG = '1.2.840.113549.1.12.10.1.3'
const FRIENDLY_NAME = '1.2.840.113549.1.9.20'
const LOCAL_KEY_ID = '1.2.840.113549.1.9.21'

interface Entry {
  alias: string | null
  keyId: string | null
  key?: KeyObject
  cert?: X509Certificate
}

export async function loadBusinessKeys(ks: KeystoreConfig, now: Date): Promise<BusinessKeys> {
  if (!ks.path)
    throw new KeystoreError(
      'difi.move.org.keystore.path is empty: set it to the business certificate key store',
    )
  let bytes: Buffer
  try {
    bytes = readFileSync(ks.path)
  } catch (cause) {
    throw new KeystoreError(`cannot read the key store ${ks.path}: ${(cause as Error).message}`, { cause })
  }
  const type = ks.type.toUpperCase()
  if (type === 'JKS' || type === 'JCEKS') {
    throw new KeystoreError(
      `key store type ${ks.type} is not supported: convert it with keytool -importkeystore -deststoretype PKCS12`,
    )
  }
  const entries =
    type === 'PEM'
      ? readPem(bytes.toString('utf8'), ks.password)
      : await readPkcs12(bytes, ks.password ?? '', ks.path)
  return choose(entries, ks, now)
}

function choose(entries: Entry[], ks: KeystoreConfig, now: Date): BusinessKeys {
  const withKey = entries.filter((e) => e.key)
  const aliases = withKey.map((e) => e.alias ?? '(no alias)').join(', ')
  let entry: Entry | undefined
  if (ks.alias) {
    entry = withKey.find((e) => e.alias?.toLowerCase() === ks.alias!.toLowerCase())
    if (!entry)
      throw new KeystoreError(
        `alias ${ks.alias} is not in the key store ${ks.path} (it holds: ${aliases || 'no keys'})`,
      )
  } else {
    if (withKey.length !== 1) {
      throw new KeystoreError(
        `the key store ${ks.path} holds ${withKey.length} keys (${aliases}): set difi.move.org.keystore.alias`,
      )
    }
    entry = withKey[0]
  }
  const pub = createPublicKey(entry!.key!)
  const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' })
  const cert = entry!.cert ?? entries.find((e) => e.cert && spki(e.cert.publicKey).equals(spki(pub)))?.cert
  if (!cert)
    throw new KeystoreError(`the key store ${ks.path} has no certificate for the key ${entry!.alias ?? ''}`)
  if (!spki(cert.publicKey).equals(spki(pub))) {
    throw new KeystoreError(`the key ${entry!.alias ?? ''} in ${ks.path} does not match its certificate`)
  }
  if (new Date(cert.validTo) < now)
    throw new KeystoreError(
      `the business certificate ${cert.subject.replace(/\n/g, ', ')} expired on ${cert.validTo}`,
    )
  if (new Date(cert.validFrom) > now)
    throw new KeystoreError(
      `the business certificate ${cert.subject.replace(/\n/g, ', ')} is not valid before ${cert.validFrom}`,
    )
  const chain = entries
    .filter((e) => e.cert && e.cert !== cert && !e.cert.raw.equals(cert.raw))
    .map((e) => e.cert!.toString())
  return {
    keyPem: entry!.key!.export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: cert.toString(),
    chainPem: chain,
  }
}

function readPem(text: string, password: string | null): Entry[] {
  const blocks = text.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? []
  const entries: Entry[] = []
  for (const block of blocks) {
    if (block.includes('CERTIFICATE-----'))
      entries.push({ alias: null, keyId: null, cert: new X509Certificate(block) })
    else if (block.includes('PRIVATE KEY-----')) {
      try {
        entries.push({
          alias: null,
          keyId: null,
          key: createPrivateKey({ key: block, passphrase: password ?? undefined }),
        })
      } catch (cause) {
        throw new KeystoreError('cannot read the private key in the PEM key store: wrong password?', {
          cause,
        })
      }
    }
  }
  const key = entries.find((e) => e.key)
  if (key) key.cert = entries.find((e) => e.cert && spkiEq(e.cert.publicKey, createPublicKey(key.key!)))?.cert
  return entries
}

const spkiEq = (a: KeyObject, b: KeyObject): boolean =>
  a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }))

async function readPkcs12(bytes: Buffer, password: string, path: string): Promise<Entry[]> {
  const pwd = new Uint8Array(Buffer.from(password, 'utf8')).buffer
  let pfx: pkijs.PFX
  try {
    pfx = pkijs.PFX.fromBER(new Uint8Array(bytes).buffer)
  } catch (cause) {
    throw new KeystoreError(`${path} is not a PKCS#12 key store`, { cause })
  }
  try {
    await pfx.parseInternalValues({ password: pwd, checkIntegrity: true }, engine)
  } catch (cause) {
    throw new KeystoreError(
      `cannot open the key store ${path}: wrong password (difi.move.org.keystore.password)?`,
      { cause },
    )
  }
  const safe = pfx.parsedValue?.authenticatedSafe
  if (!safe) throw new KeystoreError(`the key store ${path} has no contents`)
  try {
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: pwd })) }, engine)
  } catch (cause) {
    throw new KeystoreError(
      `cannot decrypt the key store ${path}: ${(cause as Error).message} (legacy RC2/3DES stores are not supported; re-export with AES)`,
      { cause },
    )
  }
  const byId = new Map<string, Entry>()
  const entries: Entry[] = []
  for (const contents of safe.parsedValue?.safeContents ?? []) {
    for (const bag of contents.value.safeBags) await addBag(bag, pwd, entries, byId)
  }
  return entries
}

async function addBag(
  bag: pkijs.SafeBag,
  pwd: ArrayBuffer,
  entries: Entry[],
  byId: Map<string, Entry>,
): Promise<void> {
  const attr = (type: string) => bag.bagAttributes?.find((a) => a.type === type)?.values[0]
  const alias =
    (attr(FRIENDLY_NAME) as { valueBlock?: { value?: string } } | undefined)?.valueBlock?.value ?? null
  const idHex = (attr(LOCAL_KEY_ID) as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock
    ?.valueHexView
  const keyId = idHex ? Buffer.from(idHex).toString('hex') : null
  const entry = (keyId && byId.get(keyId)) || { alias, keyId }
  if (bag.bagId === KEY_BAG || bag.bagId === PLAIN_KEY_BAG) {
    let info: pkijs.PrivateKeyInfo | undefined = bag.bagValue as pkijs.PrivateKeyInfo
    if (bag.bagId === KEY_BAG) {
      const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag
      // declared protected in pkijs's types, but it is how a shrouded key bag is decrypted
      const parse = shrouded as unknown as {
        parseInternalValues(p: { password: ArrayBuffer }, c: unknown): Promise<void>
      }
      if (!shrouded.parsedValue) await parse.parseInternalValues({ password: pwd }, engine)
      info = shrouded.parsedValue
    }
    if (!info) return
    entry.key = createPrivateKey({
      key: Buffer.from(info.toSchema().toBER(false)),
      format: 'der',
      type: 'pkcs8',
    })
  } else if (bag.bagId === CERT_BAG) {
    const parsed = (bag.bagValue as pkijs.CertBag).parsedValue
    if (!(parsed instanceof pkijs.Certificate)) return
    entry.cert = new X509Certificate(Buffer.from(parsed.toSchema().toBER(false)))
  } else return
  entry.alias ??= alias
  if (keyId) byId.set(keyId, entry)
  if (!entries.includes(entry)) entries.push(entry)
}
