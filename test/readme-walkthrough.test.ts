import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Sandbox, startSandbox } from '../src/sandbox.js'

type Json = Record<string, any>

const ROOT = new URL('..', import.meta.url).pathname
const TSX = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const CLIENT_CLI = join(ROOT, 'src/client-cli.ts')
const run = promisify(execFile)

/** The README's walk-through: its shell blocks, in order; those opening with "# in another terminal" apart. */
function walkThrough(): { script: string; background: string[] } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf('## Walk-through: sending a message with curl')
  const end = readme.indexOf('\n## ', start + 1)
  const blocks = [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)
  const background = blocks.filter((b) => b.startsWith('# in another terminal'))
  const script = blocks.filter((b) => !background.includes(b)).join('\n')
  return { script, background }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

/**
 * A person following the README to the letter, twice, in a clone of their own: every step succeeds,
 * the second run as the first (with the first's messages still waiting), and nothing is left in the
 * clone outside the git-ignored tmp/.
 */
describe('the README walk-through', () => {
  let sandbox: Sandbox
  let dir: string
  let clone: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'walk-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    clone = join(dir, 'clone')
    cpSync(join(ROOT, 'sandbox/example'), join(clone, 'sandbox/example'), { recursive: true })
  })
  afterAll(async () => {
    await sandbox?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('runs as written, twice in a row, and leaves nothing untracked', async () => {
    const [a, b] = sandbox.points.map((p) => p.url) as [string, string]
    const hookPort = await freePort()
    const onSandbox = (text: string) =>
      text
        .replaceAll('http://127.0.0.1:9093', a)
        .replaceAll('http://127.0.0.1:9094', b)
        .replaceAll('http://127.0.0.1:9098', sandbox.standIns.find((s) => s.name === 'altinn-broker')!.url)
        .replaceAll('http://127.0.0.1:9097', sandbox.standIns.find((s) => s.name === 'svarut')!.url)
        .replaceAll('http://127.0.0.1:9095', sandbox.standIns.find((s) => s.name === 'service-bus')!.url)
        .replaceAll('http://127.0.0.1:9096', sandbox.standIns.find((s) => s.name === 'dpi')!.url)
        .replaceAll('8080', String(hookPort))
    const { script, background } = walkThrough()
    expect(background).toHaveLength(1)
    expect(script).toContain('peek?messageId=$MID')

    // the receiver of step 5, started as the README says (npx runs the client's command line)
    const listenLine = background[0]!
      .split('\n')
      .find((l) => l.startsWith('npx integrasjonspunkt-client listen'))!
    const listenArgs = onSandbox(listenLine).split(/\s+/).slice(2)
    const listener = spawn(process.execPath, ['--import', TSX, CLIENT_CLI, ...listenArgs, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let events = ''
    let said = ''
    listener.stdout.on('data', (d) => {
      events += d
    })
    listener.stderr.on('data', (d) => {
      said += d
    })
    try {
      await until(async () => said.includes('Listening for webhook events'))
      for (const round of [1, 2]) {
        const { stdout } = await run(
          'bash',
          ['-e', '-o', 'pipefail', '-c', `${onSandbox(script)}\necho "MID=$MID"`],
          {
            cwd: clone,
          },
        ).catch((error: { stderr: string; stdout: string }) => {
          throw new Error(`round ${round} failed: ${error.stderr}\n${error.stdout.slice(-2000)}`)
        })
        const mid = /^MID=(\S+)$/m.exec(stdout)![1]!
        // the message was received and deleted: LEVERT at the sender, then LEST after the receipt
        await until(async () => (await statuses(a, mid)).includes('LEST'))
        expect(await statuses(a, mid)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'])
      }
      // the receiver printed the ping and statuses, each with a good signature
      await until(async () => events.includes('"event":"ping"'))
      const lines = events
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Json)
      expect(lines.filter((l) => l.event === 'ping')).toHaveLength(2)
      expect(lines.every((l) => l.signatureChecked === true)).toBe(true)
      expect(said).not.toContain('refused')
    } finally {
      listener.kill('SIGTERM')
    }
    // the subscription was removed, and the clone holds nothing new but the git-ignored tmp/
    expect(((await (await fetch(`${a}/api/subscriptions`)).json()) as Json).content).toEqual([])
    expect(readdirSync(clone).sort()).toEqual(['sandbox', 'tmp'])
    expect(readdirSync(join(clone, 'sandbox/example')).sort()).toEqual(['arkivmelding.xml', 'vedtak.pdf'])
    // and git ignores that folder (read from .gitignore: the suite may run outside a git checkout)
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('/tmp/')
  }, 120_000)
})

describe('the example files', () => {
  it('vedtak.pdf is a real PDF: every object where its cross-reference table says', () => {
    const pdf = readFileSync(join(ROOT, 'sandbox/example/vedtak.pdf')).toString('latin1')
    expect(pdf.startsWith('%PDF-1.')).toBe(true)
    expect(pdf.trimEnd().endsWith('%%EOF')).toBe(true)
    const startxref = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(pdf)![1])
    expect(pdf.slice(startxref, startxref + 4)).toBe('xref')
    const [, first, count] = /^xref\s+(\d+) (\d+)/.exec(pdf.slice(startxref))!.map(Number) as number[]
    const entries = pdf
      .slice(startxref)
      .split('\n')
      .slice(2, 2 + count!)
    expect(entries).toHaveLength(count!)
    entries.forEach((entry, i) => {
      const [offset, , kind] = entry.trim().split(' ')
      if (kind !== 'n') return
      expect(pdf.slice(Number(offset)).startsWith(`${first! + i} 0 obj`)).toBe(true)
    })
    expect(pdf).toMatch(/\/Type \/Page\b/)
  })
})

async function statuses(url: string, messageId: string): Promise<string[]> {
  const page = (await (await fetch(`${url}/api/statuses/${messageId}?sort=id`)).json()) as Json
  return page.content.map((s: Json) => s.status)
}

async function until(probe: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 100))
  }
}
