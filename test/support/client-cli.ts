import { type ChildProcess, spawn } from 'node:child_process'

/** `integrasjonspunkt-client` from source (tsx), as a child process of the test. */
const ROOT = new URL('../..', import.meta.url).pathname
const CLI = 'packages/client/src/cli.ts'

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Those still running when the tests end (after a failure); `killCliChildren` stops them. */
const children = new Set<ChildProcess>()

/** The command line as a child process: its output so far, and its end. */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; stdout: () => string; done: Promise<Run> } {
  // tsx resolves from the working directory, so the process runs from the project root
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, INTEGRASJONSPUNKT_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => {
    stdout += d
  })
  child.stderr!.on('data', (d) => {
    stderr += d
  })
  const done = new Promise<Run>((resolve) =>
    child.once('close', (code) => {
      children.delete(child)
      resolve({ code, stdout, stderr })
    }),
  )
  return { child, stdout: () => stdout, done }
}

export function killCliChildren(): void {
  for (const child of children) child.kill('SIGKILL')
}
