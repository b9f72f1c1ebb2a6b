// Test keys and certificates made with the real openssl binary in a temp dir, and a helper to run it.

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestIdentity {
  keyPem: string
  certPem: string
  keyPath: string
  certPath: string
}

export function makeTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A self-signed RSA certificate, valid from now for `days` (test expiry with a later `now`). */
export function makeIdentity(
  dir: string,
  name: string,
  opts: { days?: number; bits?: number } = {},
): TestIdentity {
  const keyPath = join(dir, `${name}.key`)
  const certPath = join(dir, `${name}.crt`)
  openssl([
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    `rsa_keygen_bits:${opts.bits ?? 2048}`,
    '-out',
    keyPath,
  ])
  const days = String(opts.days ?? 365)
  openssl([
    'req',
    '-new',
    '-x509',
    '-key',
    keyPath,
    '-out',
    certPath,
    '-subj',
    `/O=Test/CN=${name}`,
    '-days',
    days,
  ])
  return { keyPem: readFileSync(keyPath, 'utf8'), certPem: readFileSync(certPath, 'utf8'), keyPath, certPath }
}

/** Runs openssl; throws with its stderr when it fails. */
export function openssl(args: string[], tolerate = false, input?: Buffer): Buffer {
  const r = spawnSync('openssl', args, { input, maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0 && !tolerate) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr.toString()}`)
  return r.stdout
}

/**
 * `openssl cms -sign` of `data`, detached, DER, written through files in `dir`: `md` the digest (the
 * reference signs with SHA-1), `extra` certificates carried beside the signer's, `flags` more options.
 */
export function opensslCmsSign(
  dir: string,
  data: Buffer,
  who: TestIdentity,
  opts: { md?: string; extra?: TestIdentity[]; flags?: string[] } = {},
): Buffer {
  const path = join(dir, 'signed-data.bin')
  writeFileSync(path, data)
  const args = ['cms', '-sign', '-binary', ...(opts.flags ?? []), '-md', opts.md ?? 'sha256']
  args.push('-signer', who.certPath, '-inkey', who.keyPath)
  if (opts.extra?.length) {
    // one -certfile (openssl keeps the last one given)
    const certs = join(dir, 'extra-certs.pem')
    writeFileSync(certs, opts.extra.map((e) => e.certPem).join(''))
    args.push('-certfile', certs)
  }
  return openssl([...args, '-in', path, '-outform', 'DER'])
}

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'])
    return true
  } catch {
    return false
  }
}

/** A zip's central directory records and where they start (a zip of at most 65,535 entries, no zip64, no comment). */
export function directoryRecords(zip: Buffer): { records: Buffer[]; cdOffset: number; eocd: number } {
  const eocd = zip.length - 22
  if (zip.readUInt32LE(eocd) !== 0x06054b50) throw new Error('no end of central directory where expected')
  const [count, cdOffset] = [zip.readUInt16LE(eocd + 10), zip.readUInt32LE(eocd + 16)]
  const records: Buffer[] = []
  for (let at = cdOffset, i = 0; i < count; i++) {
    const length = 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32)
    records.push(zip.subarray(at, at + length))
    at += length
  }
  return { records, cdOffset, eocd }
}

/**
 * The zip with its central directory's records in reverse: its entries are then listed against the
 * order of their bytes (a zip of at most 65,535 entries, no zip64, no comment).
 */
export function reverseDirectory(zip: Buffer): Buffer {
  const { records, cdOffset } = directoryRecords(zip)
  const out = Buffer.from(zip)
  Buffer.concat(records.reverse()).copy(out, cdOffset)
  return out
}

/** `zip` without its central directory's record `index` (no zip64, no comment) */
export function dropDirectoryRecord(zip: Buffer, index: number): Buffer {
  const { records, cdOffset, eocd } = directoryRecords(zip)
  const kept = records.filter((_, i) => i !== index)
  const end = Buffer.from(zip.subarray(eocd))
  end.writeUInt16LE(kept.length, 8)
  end.writeUInt16LE(kept.length, 10)
  end.writeUInt32LE(
    kept.reduce((n, r) => n + r.length, 0),
    12,
  )
  return Buffer.concat([zip.subarray(0, cdOffset), ...kept, end])
}
