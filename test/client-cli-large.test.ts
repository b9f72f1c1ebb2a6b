import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { pino } from 'pino'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Sandbox, startSandbox } from '../src/sandbox.js'
import { killCliChildren, startCli } from './support/client-cli.js'

/**
 * The headline, end to end through the sandbox with the command line alone: send a 100 MiB
 * file with progress, stop a receive half-way (the message goes back to the queue), receive it
 * again, and compare checksums.
 */

const MIB = 1024 * 1024
const SIZE = 100 * MIB

async function until(probe: () => Promise<boolean> | boolean, ms: number, every = 100): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, every))
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(path), hash)
  return hash.digest('hex')
}

let dir: string
let sandbox: Sandbox

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'client-cli-large-'))
  sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
}, 60_000)

afterAll(async () => {
  killCliChildren()
  await sandbox?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** 100 MiB of random bytes, written a MiB at a time; answers its sha256. */
function writeRandomFile(path: string): string {
  const hash = createHash('sha256')
  const fd = openSync(path, 'w')
  try {
    for (let written = 0; written < SIZE; written += MIB) {
      const chunk = randomBytes(MIB)
      hash.update(chunk)
      writeSync(fd, chunk)
    }
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}

it('sends 100 MiB with progress, survives a stopped receive, and arrives intact', async () => {
  const [a, b] = sandbox.points.map((p) => p.url) as [string, string]
  const big = join(dir, 'stor-fil.bin')
  const checksum = writeRandomFile(big)

  const sent = await startCli(['--url', a, 'send', '--to', '910077473', '--progress', '--json', big]).done
  expect(sent.code, sent.stderr).toBe(0)
  const { messageId, mode } = JSON.parse(sent.stdout.trim().split('\n')[0]!)
  expect(mode).toBe('upload')
  // the progress lines climb in 5 % steps to 100 %
  const percents = sent.stderr
    .split('\n')
    .filter((l) => l.startsWith('progress '))
    .map((l) => Number(/^progress (\d+)% /.exec(l)?.[1]))
  expect(percents.length).toBeGreaterThanOrEqual(20)
  expect(percents.every((p, i) => i === 0 || p > percents[i - 1]!)).toBe(true)
  expect(percents.at(-1)).toBe(100)
  expect(sent.stderr).toContain('progress 100% (100.0 MiB of 100.0 MiB) stor-fil.bin')

  const statuses = async () =>
    ((await (await fetch(`${a}/api/statuses/${messageId}?sort=id`)).json()) as any).content.map(
      (s: any) => s.status,
    )
  await until(async () => (await statuses()).includes('MOTTATT'), 150_000, 250)

  // a receive stopped while it writes the message leaves nothing behind and gives the message back
  const inbox = join(dir, 'inbox')
  mkdirSync(inbox)
  const stopped = startCli(['--url', b, 'receive', '--out', inbox, '--interval', '200'])
  await until(() => readdirSync(inbox).some((f) => f.startsWith(`.${messageId}.partial-`)), 60_000, 20)
  stopped.child.kill('SIGTERM')
  const interrupted = await stopped.done
  expect(interrupted.code, interrupted.stderr).toBe(130)
  expect(readdirSync(inbox)).toEqual([])
  const list = (await (await fetch(`${b}/api/messages/in?messageId=${messageId}`)).json()) as any
  expect(list.content).toHaveLength(1)

  const received = await startCli(['--url', b, 'receive', '--out', inbox, '--once', '--json']).done
  expect(received.code, received.stderr).toBe(0)
  const [line] = received.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  expect(line).toMatchObject({ messageId, action: 'deleted' })
  expect(line.files).toContain('stor-fil.bin')
  expect(await sha256File(join(inbox, messageId, 'stor-fil.bin'))).toBe(checksum)
  const after = (await (await fetch(`${b}/api/messages/in?messageId=${messageId}`)).json()) as any
  expect(after.content).toEqual([])
  await until(async () => (await statuses()).includes('LEVERT'), 30_000)
}, 240_000)
