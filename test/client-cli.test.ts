import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Sandbox, startSandbox } from '../src/sandbox.js'
import { killCliChildren, startCli } from './support/client-cli.js'

/**
 * `integrasjonspunkt-client` end to end: run from source as a child process, against the sandbox in
 * this process (910075918 at A sends to 910077473 at B over DPO through the broker stand-in).
 */

const ARKIVMELDING = 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0'
const RESPONSE = 'urn:no:difi:profile:arkivmelding:response:ver1.0'

const cli = (...args: string[]) => startCli(args).done

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>)

let dir: string
let sandbox: Sandbox
let a: string
let b: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'client-cli-'))
  sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
  ;[a, b] = sandbox.points.map((p) => p.url) as [string, string]
}, 60_000)

afterAll(async () => {
  killCliChildren()
  await sandbox?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function statuses(url: string, messageId: string): Promise<string[]> {
  const page = (await (await fetch(`${url}/api/statuses/${messageId}?sort=id&size=100`)).json()) as any
  return page.content.map((s: any) => s.status)
}

async function until(probe: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 100))
  }
}

function writeFiles(names: string[], size: number): string[] {
  return names.map((name) => {
    const path = join(dir, name)
    writeFileSync(path, randomBytes(size))
    return path
  })
}

/** Receives at B into a fresh directory, once, as JSON lines. */
async function receiveAtB(...extra: string[]): Promise<{ out: string; received: Record<string, any>[] }> {
  const out = mkdtempSync(join(dir, 'inbox-'))
  const r = await cli('--url', b, 'receive', '--out', out, '--once', '--json', ...extra)
  expect(r.code, r.stderr).toBe(0)
  return { out, received: jsonLines(r.stdout) }
}

/** B's fagsystem answers the arkivmelding with a receipt (OK → LEST at A, ERROR → FEIL). */
async function answerFromB(messageId: string, receiptType: 'OK' | 'ERROR'): Promise<void> {
  const r = await cli(
    ...['--url', b, 'send', '--to', '910075918', '--process', RESPONSE],
    ...['--business-message', JSON.stringify({ receiptType, relatedToMessageId: messageId })],
  )
  expect(r.code, r.stderr).toBe(0)
}

describe('integrasjonspunkt-client against the sandbox', () => {
  it('shows capabilities as a table and as the API JSON', async () => {
    const [human, json] = await Promise.all([
      cli('--url', a, 'capabilities', '910077473'),
      cli('--url', a, 'capabilities', '910077473', '--json', '--process', ARKIVMELDING),
    ])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/^SERVICE\s+PROCESS\s+DOCUMENT TYPES\s+SECURITY LEVEL\n/)
    expect(human.stdout).toMatch(new RegExp(`DPO\\s+${ARKIVMELDING}\\s+arkivmelding\\s+any`))
    expect(json.code, json.stderr).toBe(0)
    const api = await (await fetch(`${a}/api/capabilities/910077473?process=${ARKIVMELDING}`)).json()
    expect(JSON.parse(json.stdout)).toEqual(api)
  })

  it('sends two files and waits, receives them at the other end, and the receipt ends the wait', async () => {
    const files = writeFiles(['vedtak.pdf', 'vedlegg.png'], 200 * 1024)
    const sending = startCli([
      '--url',
      a,
      'send',
      '--to',
      '910077473',
      '--title',
      'Vedtak om tilskudd',
      '--wait',
      // the conversation is finished at LEVERT; --until asks to wait for the receiver's receipt too
      '--until',
      'LEST',
      '--interval',
      '200',
      '--json',
      ...files,
    ])
    let first: Record<string, any> | undefined
    await until(async () => {
      first = sending.stdout().includes('\n') ? jsonLines(sending.stdout())[0] : undefined
      return first !== undefined
    })
    const { messageId, conversationId, mode, serviceIdentifier } = first!
    expect(mode).toBe('multipart')
    expect(serviceIdentifier).toBe('DPO')
    await until(async () => (await statuses(a, messageId)).includes('MOTTATT'))

    const { out, received } = await receiveAtB()
    expect(received).toEqual([
      expect.objectContaining({
        messageId,
        conversationId,
        type: 'arkivmelding',
        sender: '910075918',
        serviceIdentifier: 'DPO',
        action: 'deleted',
        // the ASiC-E's order: the hoveddokument first
        files: ['vedtak.pdf', 'arkivmelding.xml', 'vedlegg.png'],
      }),
    ])
    const inbox = join(out, messageId)
    expect(received[0]!.dir).toBe(inbox)
    const sbd = JSON.parse(readFileSync(join(inbox, 'sbd.json'), 'utf8'))
    expect(sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(messageId)
    expect(sbd.arkivmelding.hoveddokument).toBe('vedtak.pdf')
    for (const f of files) {
      const name = f.split('/').pop()!
      expect(sha256(readFileSync(join(inbox, name))), name).toBe(sha256(readFileSync(f)))
    }
    expect(readFileSync(join(inbox, 'arkivmelding.xml'), 'utf8')).toContain(
      '<offentligTittel>Vedtak om tilskudd</offentligTittel>',
    )
    const queue = (await (await fetch(`${b}/api/messages/in?messageId=${messageId}`)).json()) as any
    expect(queue.content).toEqual([])

    await answerFromB(messageId, 'OK')
    const sent = await sending.done
    expect(sent.code, sent.stderr).toBe(0)
    const lines = jsonLines(sent.stdout)
    expect(lines.slice(1).map((s) => s.status)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'])
    expect(lines.slice(1).every((s) => s.messageId === messageId)).toBe(true)

    const [table, json] = await Promise.all([
      cli('--url', a, 'status', messageId),
      cli('--url', a, 'status', messageId, '--json'),
    ])
    expect(table.code, table.stderr).toBe(0)
    const rows = table.stdout.trim().split('\n')
    expect(rows[0]).toMatch(/^TIME\s+STATUS\s+DESCRIPTION$/)
    expect(rows.slice(1).map((r) => r.split(/\s+/)[1])).toEqual([
      'OPPRETTET',
      'SENDT',
      'MOTTATT',
      'LEVERT',
      'LEST',
    ])
    expect((JSON.parse(json.stdout) as any[]).map((s) => s.status)).toEqual([
      'OPPRETTET',
      'SENDT',
      'MOTTATT',
      'LEVERT',
      'LEST',
    ])
  }, 90_000)

  it('keeps a message with --keep, status --follow ends with exit 4 on FEIL, watch tails it', async () => {
    const newest = (await (await fetch(`${a}/api/statuses?sort=id,desc&size=1`)).json()) as any
    const since = String(newest.content[0]?.id ?? 0)
    const watchDpo = startCli([
      '--url',
      a,
      'watch',
      '--json',
      '--interval',
      '200',
      '--service',
      'DPO',
      '--since-id',
      since,
    ])
    const watchDpe = startCli([
      '--url',
      a,
      'watch',
      '--json',
      '--interval',
      '200',
      '--service',
      'DPE',
      '--since-id',
      since,
    ])
    const [file] = writeFiles(['brev.pdf'], 10 * 1024)
    const send = await cli('--url', a, 'send', '--to', '910077473', file!)
    expect(send.code, send.stderr).toBe(0)
    const messageId = /^Sent (\S+) \(conversation \S+\) to 910077473 over DPO$/.exec(send.stdout.trim())?.[1]
    expect(messageId, send.stdout).toBeDefined()
    await until(async () => (await statuses(a, messageId!)).includes('MOTTATT'))

    const kept = await receiveAtB('--keep', '--filter', `messageId=${messageId}`)
    expect(kept.received).toEqual([expect.objectContaining({ messageId, action: 'unlocked' })])
    expect(readFileSync(join(kept.out, messageId!, 'brev.pdf'))).toEqual(readFileSync(file!))
    // still there, and not locked: peek hands it out again
    const peek = await fetch(`${b}/api/messages/in/peek?messageId=${messageId}`)
    expect(peek.status).toBe(200)
    await fetch(`${b}/api/messages/in/unlock/${messageId}`, { method: 'POST' })
    const taken = await receiveAtB('--filter', `messageId=${messageId}`)
    expect(taken.received).toEqual([expect.objectContaining({ messageId, action: 'deleted' })])

    await answerFromB(messageId!, 'ERROR')
    const follow = await cli('--url', a, 'status', messageId!, '--follow', '--interval', '200')
    expect(follow.code, follow.stderr).toBe(4)
    expect(
      follow.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'FEIL'])

    // watch printed each status of it once, in order, and stops on a signal with 130
    const mine = () => jsonLines(watchDpo.stdout()).filter((s) => s.messageId === messageId)
    await until(async () => mine().length === 5)
    watchDpo.child.kill('SIGINT')
    watchDpe.child.kill('SIGTERM')
    const [dpo, dpe] = await Promise.all([watchDpo.done, watchDpe.done])
    expect(mine().map((s) => s.status)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'FEIL'])
    expect(dpo.code, dpo.stderr).toBe(130)
    expect(dpe.code, dpe.stderr).toBe(130)
    expect(jsonLines(dpe.stdout)).toEqual([])
  }, 90_000)

  it('watch --queue prints the status queue and takes off each status it printed', async () => {
    // the tests before left statuses on A's queue
    const first = (await (await fetch(`${a}/api/statuses/peek`)).json()) as any
    const watching = startCli(['--url', a, 'watch', '--queue', '--json', '--interval', '200'])
    await until(async () => (await fetch(`${a}/api/statuses/peek`)).status === 204)
    watching.child.kill('SIGINT')
    const run = await watching.done
    expect(run.code, run.stderr).toBe(130)
    const printed = jsonLines(run.stdout)
    expect(printed[0]).toEqual(first)
    expect(printed.map((s) => s.status)).toContain('LEST')
    expect(new Set(printed.map((s) => s.id)).size).toBe(printed.length)
  })

  it('exits 2 when refused, 3 when unreachable, 1 on a usage error, and shows help with examples', async () => {
    const [file] = writeFiles(['x.pdf'], 100)
    const closed = await freePort()
    const [unknown, unknownStatus, unreachable, usage, help] = await Promise.all([
      cli('--url', a, 'send', '--to', '123456785', file!, '--json'),
      cli('--url', a, 'status', '6f1c2a9e-3c61-4d6b-9a55-0f3c8f1b2e7d'),
      cli('--url', `http://127.0.0.1:${closed}`, '--retries', '0', 'capabilities', '910077473'),
      cli('--url', a, 'send', file!),
      cli('send', '--help'),
    ])
    expect(unknown.code, unknown.stderr).toBe(2)
    expect(unknown.stderr).toMatch(/^error: the integration point answered 4\d\d: .*\(\w+Exception\)\n$/)
    expect(JSON.parse(unknown.stdout).error.exception).toMatch(/^no\.difi\.meldingsutveksling\./)
    expect(unknownStatus.code).toBe(2)
    expect(unknownStatus.stderr).toMatch(/no message with messageId/)
    expect(unreachable.code).toBe(3)
    expect(unreachable.stderr).toContain(`127.0.0.1:${closed}`)
    expect(usage.code).toBe(1)
    expect(usage.stderr).toContain('--to')
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Examples:')
    expect(help.stdout).toContain('$ integrasjonspunkt-client send --to 910077473')
    expect(help.stdout).toContain('Exit codes:')
  }, 60_000)
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}
