import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { jobsForMessage } from '../src/jobs/outbox.js'
import { intakeIncoming } from '../src/messages/in/intake.js'
import { statusReplyJobKind } from '../src/messages/in/status-reply.js'
import { encryptStream } from '../src/packaging/cms.js'
import type { BusinessKeys } from '../src/packaging/keys.js'
import { makeIdentity, makeTempDir } from '../src/packaging/test-support.js'
import { killCliChildren, startCli } from './support/client-cli.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { incomingArkivmeldingSbd, startTestIp, type TestIp } from './support/ip.js'

warnIfPostgresSkipped()

/**
 * A package the client must not write (an entry name that climbs out of the folder) is rejected: the
 * integration point records FEIL with the reason and queues FEIL to the sender, the run goes on with
 * the next message and exits 5, and the next run does not meet the message again.
 */
const PEER = '910075918'

async function zipOf(entries: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, text] of Object.entries(entries)) zip.addBuffer(Buffer.from(text), name)
  zip.end()
  return buffer(zip.outputStream)
}

/** An ASiC-E whose second document is named `../evil.txt` (yazl refuses to write that: patched in). */
async function hostileAsic(): Promise<Buffer> {
  const safe = await zipOf({
    mimetype: 'application/vnd.etsi.asic-e+zip',
    'ok.txt': 'fine',
    'xx/evil.txt': 'x',
  })
  return Buffer.from(safe.toString('latin1').replaceAll('xx/evil.txt', '../evil.txt'), 'latin1')
}

function arkivmelding(messageId: string) {
  return incomingArkivmeldingSbd(messageId, { from: PEER, hoveddokument: 'ok.txt' })
}

let keys: BusinessKeys
let cleanupKeys: () => void
beforeAll(() => {
  const tmp = makeTempDir('reject-keys-')
  cleanupKeys = tmp.cleanup
  const us = makeIdentity(tmp.dir, 'us')
  keys = { keyPem: us.keyPem, certPem: us.certPem, chainPem: [] }
})
afterAll(() => {
  killCliChildren()
  cleanupKeys()
})

describe.each(STORES)('receive rejects a hostile package on %s', (kind) => {
  let ip: TestIp | undefined
  let dir: string | undefined
  afterEach(async () => {
    await ip?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    ip = dir = undefined
  })

  /** Takes a message in as the DPO poller would, its ASiC-E encrypted to our certificate. */
  async function deliver(messageId: string, asic: Buffer): Promise<void> {
    const cms = await buffer(Readable.from([asic]).pipe(encryptStream(keys.certPem)))
    mkdirSync(ip!.payloads.tempDir, { recursive: true })
    const tempPath = join(ip!.payloads.tempDir, `${randomUUID()}.download`)
    writeFileSync(tempPath, cms)
    const outcome = await intakeIncoming(ip!.deps, {
      sbd: arkivmelding(messageId),
      serviceIdentifier: 'DPO',
      asic: { tempPath, size: cms.length },
      transferRef: null,
      authenticatedSender: `0192:${PEER}`,
    })
    expect(outcome).toBe('stored')
  }

  const receive = (out: string) => startCli(['--url', ip!.url, 'receive', '--out', out, '--once']).done

  it('reports it to the integration point as FEIL with the reason, goes on, and exits 5', async () => {
    ip = await startTestIp(kind, { keys })
    dir = mkdtempSync(join(tmpdir(), 'cli-reject-'))
    const out = join(dir, 'inbox')
    const hostile = randomUUID()
    const good = randomUUID()
    await deliver(hostile, await hostileAsic())
    await deliver(good, await zipOf({ mimetype: 'application/vnd.etsi.asic-e+zip', 'ok.txt': 'fine' }))

    const first = await receive(out)
    expect(first.code, first.stderr).toBe(5)
    expect(first.stderr).toContain(
      `Refused ${hostile} (arkivmelding) from ${PEER}: The ASiC-E could not be read: invalid relative path: ../evil.txt; ` +
        'rejected: the integration point recorded FEIL with the reason',
    )
    // the good one was taken in the same run; nothing of the hostile one was written anywhere
    expect(first.stdout).toContain(`Received ${good}`)
    expect(readdirSync(out)).toEqual([good])
    expect(existsSync(join(dir, 'evil.txt'))).toBe(false)

    // the integration point's records say why, and the sender is told FEIL instead of LEVERT
    expect(
      (await ip.json<{ totalElements: number }>(`/api/messages/in?messageId=${hostile}`)).body,
    ).toMatchObject({ totalElements: 0 })
    const conversation = (
      await ip.json<{ content: { messageStatuses: { status: string; description?: string }[] }[] }>(
        `/api/conversations?direction=INCOMING&messageId=${hostile}`,
      )
    ).body.content[0]!
    const statuses = conversation.messageStatuses.map((s) => s.status)
    expect(statuses).toContain('FEIL')
    expect(statuses).not.toContain('INNKOMMENDE_LEVERT')
    expect(conversation.messageStatuses.find((s) => s.status === 'FEIL')!.description).toBe(
      'Rejected by the receiving fagsystem: The ASiC-E could not be read: invalid relative path: ../evil.txt',
    )
    const replies = (await jobsForMessage(ip.db.kysely, hostile)).filter(
      (j) => j.kind === statusReplyJobKind('DPO'),
    )
    expect(replies.map((j) => JSON.parse(j.payload).sbd.status?.status)).toEqual(['MOTTATT', 'FEIL'])

    // the next run does not meet it again
    const second = await receive(out)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stderr).toContain('No message is waiting.')
  })

  it('against an integration point without reject (the reference), unlocks it and says it will come back', async () => {
    ip = await startTestIp(kind, { keys })
    dir = mkdtempSync(join(tmpdir(), 'cli-reject-'))
    const hostile = randomUUID()
    await deliver(hostile, await hostileAsic())
    const reference = await withoutReject(ip.url)
    try {
      const run = await startCli(['--url', reference.url, 'receive', '--out', join(dir, 'inbox'), '--once'])
        .done
      expect(run.code, run.stderr).toBe(5)
      expect(run.stderr).toContain(
        `Refused ${hostile} (arkivmelding) from ${PEER}: The ASiC-E could not be read: invalid relative path: ` +
          '../evil.txt; the integration point has no reject (the reference): it was unlocked and will be offered again',
      )
    } finally {
      await reference.close()
    }
    // nothing was said that is not so: still queued, unlocked, no FEIL and no LEVERT
    const peek = await ip.json<Record<string, unknown>>(`/api/messages/in/peek?messageId=${hostile}`)
    expect(peek.status).toBe(200)
    const statuses = (
      await ip.json<{ content: { messageStatuses: { status: string }[] }[] }>(
        `/api/conversations?direction=INCOMING&messageId=${hostile}`,
      )
    ).body.content[0]!.messageStatuses.map((s) => s.status)
    expect(statuses).not.toContain('FEIL')
    expect(statuses).not.toContain('INNKOMMENDE_LEVERT')
  })
})

/** The integration point as the reference would answer the reject path: Spring's 404 for a path it does not serve. */
async function withoutReject(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    if (req.url?.startsWith('/api/messages/in/reject/')) {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({ status: 404, error: 'Not Found', message: 'No static resource', path: req.url }),
      )
      return
    }
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = chunks.length ? Buffer.concat(chunks) : undefined
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
    ) as Record<string, string>
    const answer = await fetch(`${target}${req.url}`, { method: req.method!, headers, ...(body && { body }) })
    const type = answer.headers.get('content-type')
    res.writeHead(answer.status, type ? { 'content-type': type } : {})
    res.end(Buffer.from(await answer.arrayBuffer()))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}
