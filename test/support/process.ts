import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname
// tsx resolves from the working directory, so the process runs from the project root with --config
const ROOT = new URL('../..', import.meta.url).pathname

export interface IpProcess {
  child: ChildProcess
  url: string
  log: () => string
  kill(signal?: NodeJS.Signals): Promise<number | null>
}

export interface SpawnOptions {
  /** how long the process may take to say it is ready (default 15 s; a busy machine starting many needs more) */
  startTimeoutMs?: number
}

/** Runs `integrasjonspunkt start` from source in its own process, with these properties written to `dir`. */
export async function spawnIp(
  dir: string,
  properties: Record<string, string>,
  opts: SpawnOptions = {},
): Promise<IpProcess> {
  const startTimeoutMs = opts.startTimeoutMs ?? 15_000
  const file = join(dir, 'integrasjonspunkt-local.properties')
  writeFileSync(
    file,
    Object.entries(properties)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  )
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start', '--config', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // a process that never said it is ready is nobody's to stop later: stop it now
      child.kill('SIGKILL')
      reject(new Error(`no start within ${startTimeoutMs / 1000} s:\n${out}`))
    }, startTimeoutMs)
    child.stdout!.on('data', () => {
      const m = /ready on (http:\/\/[^"\s]+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`integration point exited ${code}:\n${out}`))
    })
  })
  return {
    child,
    url,
    log: () => out,
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode)
        child.once('exit', (code) => resolve(code))
        child.kill(signal)
      }),
  }
}
