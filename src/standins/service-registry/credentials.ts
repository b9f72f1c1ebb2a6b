import { createPrivateKey, generateKeyPair, type KeyObject, randomBytes, X509Certificate } from 'node:crypto'
import { chmod, link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import type { Clock } from '../../util/time.js'
import { type CertificateSubject, createSelfSignedCertificate } from './x509.js'

/**
 * Keys and certificates the stand-in makes itself, kept under its data folder so they survive a
 * restart (an integration point configured with one must find the same one tomorrow):
 * `keys/<name>.key.pem` (PKCS#8, mode 0600) and `certs/<name>.cert.pem`; and the Service Bus SAS keys
 * it hands out at `/sastoken`, `keys/<name>.sas-key` (mode 0600).
 */
export interface Credential {
  name: string
  privateKey: KeyObject
  certificate: X509Certificate
  keyFile: string
  certFile: string
}

export interface CredentialStore {
  /** the credential `name`, made with `subject` the first time it is asked for */
  get(name: string, subject: CertificateSubject): Promise<Credential>
  /**
   * the Service Bus SAS key `name`, made the first time it is asked for: 32 random bytes in base64,
   * the form of the keys Azure makes (they are used as the UTF-8 bytes of that text, never decoded)
   */
  sasKey(name: string): Promise<string>
}

/** Names are file names: letters, digits, `.`, `_`, `-`, not starting with a dot. */
export const CREDENTIAL_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/

const VALID_YEARS = 30
const generateRsa = promisify(generateKeyPair)

export function createCredentialStore(dataDir: string, clock: Clock): CredentialStore {
  const pending = new Map<string, Promise<Credential>>()
  return {
    get(name, subject) {
      if (!CREDENTIAL_NAME.test(name)) throw new Error(`"${name}" cannot name a generated key`)
      let credential = pending.get(name)
      if (!credential) {
        credential = loadOrCreate(dataDir, name, subject, clock)
        // a failure is not remembered: the next reload tries again
        credential.catch(() => pending.delete(name))
        pending.set(name, credential)
      }
      return credential
    },
    sasKey(name) {
      if (!CREDENTIAL_NAME.test(name)) throw new Error(`"${name}" cannot name a generated key`)
      return loadOrCreateSasKey(join(dataDir, 'keys', `${name}.sas-key`))
    },
  }
}

/**
 * The key in `file`, or a new one put there. The Service Bus stand-in reads the same file, maybe at
 * the same moment: the new key is linked into place, which fails when one is already there, so both
 * always end with the one key that won.
 */
async function loadOrCreateSasKey(file: string): Promise<string> {
  const existing = await readIfExists(file)
  if (existing !== undefined) return sasKeyText(existing, file)
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  try {
    await chmod(tmp, 0o600)
    await link(tmp, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw new Error(`cannot write the generated key ${file}: ${err.message}`)
    })
  } finally {
    await unlink(tmp).catch(() => undefined)
  }
  return sasKeyText((await readIfExists(file)) ?? '', file)
}

function sasKeyText(text: string, file: string): string {
  const key = text.trim()
  if (key === '' || /\s/.test(key)) throw new Error(`${file} holds no SAS key: delete it to have one made`)
  return key
}

async function loadOrCreate(
  dataDir: string,
  name: string,
  subject: CertificateSubject,
  clock: Clock,
): Promise<Credential> {
  const keyFile = join(dataDir, 'keys', `${name}.key.pem`)
  const certFile = join(dataDir, 'certs', `${name}.cert.pem`)
  await mkdir(join(dataDir, 'keys'), { recursive: true, mode: 0o700 })
  await mkdir(join(dataDir, 'certs'), { recursive: true })
  const keyPem = await readIfExists(keyFile)
  const certPem = await readIfExists(certFile)
  if (keyPem !== undefined && certPem !== undefined) {
    return existing(name, keyFile, certFile, keyPem, certPem)
  }
  // a certificate without its key is of no use to anyone: make both
  const privateKey =
    keyPem !== undefined ? createPrivateKey(keyPem) : await newKey(keyFile).catch(rethrowFor(keyFile))
  const now = clock.now()
  const certificate = createSelfSignedCertificate({
    privateKey,
    subject,
    notBefore: new Date(now.getTime() - 60 * 60 * 1000),
    notAfter: new Date(Date.UTC(now.getUTCFullYear() + VALID_YEARS, now.getUTCMonth(), now.getUTCDate())),
  })
  await writeAtomically(certFile, certificate.toString(), 0o644)
  return { name, privateKey, certificate, keyFile, certFile }
}

function existing(name: string, keyFile: string, certFile: string, keyPem: string, certPem: string) {
  let privateKey: KeyObject
  let certificate: X509Certificate
  try {
    privateKey = createPrivateKey(keyPem)
    certificate = new X509Certificate(certPem)
  } catch (err) {
    throw new Error(
      `cannot read the generated key ${keyFile} or certificate ${certFile}: ${(err as Error).message}`,
    )
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error(`${certFile} is not the certificate of ${keyFile}: delete both to have new ones made`)
  }
  return { name, privateKey, certificate, keyFile, certFile }
}

async function newKey(keyFile: string): Promise<KeyObject> {
  const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 })
  await writeAtomically(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600)
  return privateKey
}

async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  await writeFile(tmp, text, { mode, flag: 'wx' })
  await chmod(tmp, mode) // the umask may have taken bits away; never added any
  await rename(tmp, file)
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`cannot read ${file}: ${(err as Error).message}`)
  }
}

function rethrowFor(file: string) {
  return (err: unknown): never => {
    throw new Error(`cannot write the generated key ${file}: ${(err as Error).message}`)
  }
}
