import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  arkivmeldingMessage,
  buildSbd,
  type IncomingMessage,
  IntegrasjonspunktClient,
  NotFoundError,
} from '../packages/client/src/index.js'
import { type Sandbox, startSandbox } from '../src/sandbox.js'
import { arkivmeldingXml } from './support/arkivmelding.js'

/** Stopping a receive loop at any point leaves no message locked. */
describe('receiving with the client library', () => {
  let dir: string
  let sandbox: Sandbox
  let a: IntegrasjonspunktClient
  let b: IntegrasjonspunktClient
  let bUrl: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'client-receive-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    a = new IntegrasjonspunktClient({ url: sandbox.points[0]!.url })
    bUrl = sandbox.points[1]!.url
    b = new IntegrasjonspunktClient({ url: bUrl })
  }, 60_000)

  afterAll(async () => {
    await sandbox?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Sends a small arkivmelding from A and waits until it waits at B. */
  async function arrived(): Promise<string> {
    const sbd = buildSbd({
      receiver: '910077473',
      businessMessage: arkivmeldingMessage({ hoveddokument: 'a.txt' }),
    })
    const { messageId } = await a.send(sbd, [
      { data: arkivmeldingXml({ files: ['a.txt'] }), filename: 'arkivmelding.xml' },
      { data: 'hei', filename: 'a.txt' },
    ])
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      const list = (await (await fetch(`${bUrl}/api/messages/in?messageId=${messageId}`)).json()) as {
        totalElements: number
      }
      if (list.totalElements === 1) return messageId
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`${messageId} did not arrive`)
  }

  /** Whether a plain peek can lock it now; unlocks it again. */
  async function peekable(messageId: string): Promise<boolean> {
    const peek = await fetch(`${bUrl}/api/messages/in/peek?messageId=${messageId}`)
    await peek.arrayBuffer()
    if (peek.status === 200) await fetch(`${bUrl}/api/messages/in/unlock/${messageId}`, { method: 'POST' })
    return peek.status === 200
  }

  it('unlocks the message when the loop breaks, moves on without deciding, or is aborted', async () => {
    const messageId = await arrived()
    const filter = { messageId }
    for await (const m of b.receive({ filter })) {
      expect(m.messageId).toBe(messageId)
      expect(await peekable(messageId)).toBe(false) // locked while we hold it
      break
    }
    expect(await peekable(messageId)).toBe(true)

    // not deciding: given back, and not offered twice by the same run
    let offered = 0
    for await (const _ of b.receive({ filter, once: true })) offered++
    expect(offered).toBe(1)
    expect(await peekable(messageId)).toBe(true)

    const controller = new AbortController()
    for await (const _ of b.receive({ filter, signal: controller.signal })) controller.abort()
    expect(await peekable(messageId)).toBe(true)

    // a throwing handler gets its message unlocked and the error back
    const failing = b.receiveWith(
      async () => {
        throw new Error('archive is down')
      },
      { filter },
    )
    await expect(failing).rejects.toThrow('archive is down')
    expect(await peekable(messageId)).toBe(true)

    let taken: IncomingMessage | undefined
    const deleted = await b.receiveWith(
      async (m) => {
        taken = m
        return 'delete'
      },
      { filter, once: true },
    )
    expect(deleted).toBe(1)
    expect(await peekable(messageId)).toBe(false)
    // what the server says about a message that is gone reaches the caller whole
    const gone = await taken!.asic().catch((e) => e)
    expect(gone).toBeInstanceOf(NotFoundError)
    expect(gone.exceptionName).toBe('MessageNotFoundException')
    for await (const s of a.followStatuses(messageId, { intervalMs: 100, until: ['LEVERT'] }))
      expect(s.messageId).toBe(messageId)
  }, 60_000)

  it('offers each message once per run even when it is given back, and ends on the signal while waiting', async () => {
    const first = await arrived()
    const second = await arrived()
    const seen: string[] = []
    const unlocked = await b.receiveWith(
      async (m: IncomingMessage) => {
        seen.push(m.messageId)
        return 'unlock'
      },
      { once: true },
    )
    expect(unlocked).toBe(2)
    expect(seen.sort()).toEqual([first, second].sort())
    expect(await peekable(first)).toBe(true)
    expect(await peekable(second)).toBe(true)
    expect(await b.receiveWith(async () => 'delete', { once: true })).toBe(2)

    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const started = Date.now()
    for await (const _ of b.receive({ signal: controller.signal, pollIntervalMs: 60_000 }))
      throw new Error('nothing should wait')
    expect(Date.now() - started).toBeLessThan(5_000)
  }, 60_000)
})
