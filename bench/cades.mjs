// The CAdES signature of an ASiC-E's manifest, made and checked in this process as a DPO message's
// sender and receiver do, beside the RSA signature and verification (node:crypto, OpenSSL) that any
// such signature needs: the ratio says what the CMS layer (pkijs and asn1js) adds to the cryptography.
// BENCH_ROUNDS rounds of BENCH_ITERATIONS each; needs openssl (a test certificate) and a build.

import { spawnSync } from 'node:child_process'
import { createPrivateKey, sign, verify, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const N = Number(process.env.BENCH_ITERATIONS ?? 500)
const { signDetached, verifyDetached } = await import(
  new URL('../dist/src/packaging/asic-signature.js', import.meta.url).href
)

const dir = mkdtempSync(join(tmpdir(), 'bench-cades-'))
const made = spawnSync('openssl', [
  'req',
  '-x509',
  '-newkey',
  'rsa:2048',
  '-nodes',
  '-subj',
  '/O=Bench/CN=910075918',
  '-days',
  '2',
  '-keyout',
  join(dir, 'key.pem'),
  '-out',
  join(dir, 'cert.pem'),
])
if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`)
const keyPem = readFileSync(join(dir, 'key.pem'), 'utf8')
const certPem = readFileSync(join(dir, 'cert.pem'), 'utf8')
rmSync(dir, { recursive: true, force: true })

// a manifest of the size a message with a few documents has
const manifest = Buffer.from(
  `<ASiCManifest>${'<DataObjectReference URI="dokument.pdf"/>'.repeat(8)}</ASiCManifest>`,
)
const key = createPrivateKey(keyPem)
const publicKey = new X509Certificate(certPem).publicKey

async function perOp(fn) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await fn()
  return Number(process.hrtime.bigint() - started) / 1e6 / N
}

const signature = await signDetached(manifest, { keyPem, certPem })
const raw = sign('sha256', manifest, key)
const rounds = []
for (let r = 0; r < ROUNDS; r++) {
  const ours = {
    sign: await perOp(() => signDetached(manifest, { keyPem, certPem })),
    verify: await perOp(async () => {
      if (!(await verifyDetached(signature, manifest)).valid) throw new Error('our signature did not verify')
    }),
  }
  const baseline = {
    sign: await perOp(() => sign('sha256', manifest, key)),
    verify: await perOp(() => {
      if (!verify('sha256', manifest, publicKey, raw)) throw new Error('the raw signature did not verify')
    }),
  }
  rounds.push({
    msPerSignature: { ours: +ours.sign.toFixed(3), baseline: +baseline.sign.toFixed(3) },
    msPerCheck: { ours: +ours.verify.toFixed(3), baseline: +baseline.verify.toFixed(3) },
    ratios: {
      sign: +(baseline.sign / ours.sign).toFixed(2),
      verify: +(baseline.verify / ours.verify).toFixed(2),
    },
  })
}
console.log(
  JSON.stringify(
    {
      benchmark: 'cades',
      iterations: N,
      manifestBytes: manifest.length,
      rounds,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    2,
  ),
)
