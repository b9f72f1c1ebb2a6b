import { createHash } from 'node:crypto'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import * as library from '../packages/client/src/index.js'
import { type Sandbox, startSandbox } from '../src/sandbox.js'

const README = new URL('../packages/client/README.md', import.meta.url)
const EXAMPLE = new URL('../sandbox/example/', import.meta.url)

/** The README's quick start, as printed: its imports, then the code. */
function quickStart(): { names: string[]; code: string } {
  const text = readFileSync(README, 'utf8')
  const block = /<!-- example: quick-start[^>]*-->\s*```ts\n([\s\S]*?)```\s*<!-- \/example -->/.exec(text)
  if (!block) throw new Error('the README has no quick-start example block')
  const lines = block[1]!.split('\n')
  const importLine = lines.find((l) => l.startsWith('import '))!
  const names = /^import \{ ([^}]+) \} from 'integrasjonspunkt-client'$/
    .exec(importLine)![1]!
    .split(',')
    .map((n) => n.trim())
  return { names, code: lines.filter((l) => l !== importLine).join('\n') }
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>

describe('the README quick start', () => {
  let dir: string
  let sandbox: Sandbox | undefined
  const cwd = process.cwd()
  afterEach(async () => {
    process.chdir(cwd)
    await sandbox?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('is a dozen lines that send, receive, unpack and follow a message in the sandbox', async () => {
    const { names, code } = quickStart()
    expect(code.split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(13)
    dir = mkdtempSync(join(tmpdir(), 'client-readme-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    const [a, b] = sandbox.points.map((p) => p.url)
    for (const f of ['arkivmelding.xml', 'vedtak.pdf']) copyFileSync(new URL(f, EXAMPLE), join(dir, f))
    process.chdir(dir)

    const printed: unknown[][] = []
    const console = { log: (...args: unknown[]) => printed.push(args) }
    const run = new AsyncFunction(
      ...names,
      'console',
      code
        .replaceAll('localhost:9093', a!.replace('http://', ''))
        .replaceAll('localhost:9094', b!.replace('http://', '')),
    )
    const exported = library as Record<string, unknown>
    await run(...names.map((n) => exported[n]), console)

    const [received, ...statuses] = printed
    expect(received![0]).toBe('received')
    const paths = received![1] as string[]
    expect(paths.map((p) => basename(p)).sort()).toEqual(['arkivmelding.xml', 'vedtak.pdf'])
    const hash = (p: string | URL) => createHash('sha256').update(readFileSync(p)).digest('hex')
    for (const p of paths) expect(hash(p)).toBe(hash(new URL(basename(p), EXAMPLE)))
    expect(statuses.map((s) => s[0])).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
  }, 60_000)
})
