import { createServer } from 'node:net'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ApiError, NetworkError } from '../index.js'
import { EXIT, errorReport, UsageError } from './exit.js'
import { run } from './program.js'

async function cli(...args: string[]) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (d) => {
    out += d
  })
  stderr.on('data', (d) => {
    err += d
  })
  const code = await run(['node', 'integrasjonspunkt-client', ...args], { stdout, stderr })
  return { code, out, err }
}

describe('the command line, parsing', () => {
  it('answers 1 with a clear line for usage errors, and a JSON error under --json', async () => {
    const missing = await cli('send', 'a.pdf')
    expect(missing.code).toBe(EXIT.usage)
    expect(missing.err).toContain("required option '--to <receiver>' not specified")
    expect(missing.out).toBe('')

    const unknown = await cli('capabilities', '910077473', '--nope', '--json')
    expect(unknown.code).toBe(EXIT.usage)
    expect(unknown.err).toContain("unknown option '--nope'")
    expect(JSON.parse(unknown.out)).toMatchObject({ error: { usage: true } })

    expect((await cli('frobnicate')).code).toBe(EXIT.usage)
    expect((await cli('capabilities')).err).toContain("missing required argument 'receiver'")
    expect((await cli('receive', '--out', 'x', '--filter', 'colour=blue')).err).toMatch(
      /--filter takes key=value/,
    )
    expect((await cli('status', 'm', '--interval', 'soon')).err).toMatch(/--interval must be a whole number/)
  })

  it('refuses a user without a password before any request', async () => {
    const r = await cli('--url', 'http://127.0.0.1:9', '--user', 'fagsystem', 'capabilities', '910077473')
    expect(r.code).toBe(EXIT.usage)
    expect(r.err).toMatch(/give both --user and --password/)
  })

  it('shows help with examples and exit codes, for the program and each command', async () => {
    const help = await cli('--help')
    expect(help.code).toBe(0)
    expect(help.out).toContain('integrasjonspunkt-client capabilities 910077473')
    expect(help.out).toContain('130  interrupted')
    for (const command of ['capabilities', 'send', 'receive', 'status', 'watch']) {
      const r = await cli(command, '--help')
      expect(r.code).toBe(0)
      expect(r.out).toContain('Examples:')
      expect(r.out).toContain(`$ integrasjonspunkt-client ${command}`)
      expect(r.out).toContain('Exit codes:')
    }
    expect((await cli('--version')).out.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('answers 3 when nothing listens at the URL', async () => {
    // a port that was free a moment ago: nothing listens there
    const server = createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as { port: number }
    await new Promise((r) => server.close(r))
    const url = `http://127.0.0.1:${port}`
    const r = await cli('--url', url, '--retries', '0', 'capabilities', '910077473', '--json')
    expect(r.code).toBe(EXIT.unreachable)
    expect(r.err).toContain(`error: No answer from ${url}`)
    expect(JSON.parse(r.out)).toMatchObject({ error: { network: true } })
  })
})

describe('errorReport', () => {
  const api = (status: number, exception?: string) =>
    new ApiError({
      status,
      body: JSON.stringify({ status, error: 'X', message: 'went wrong', path: '/api/x', exception }),
    })

  it('maps refusals to 2, server failures and network errors to 3, the rest to 1', () => {
    const refused = errorReport(api(400, 'no.difi.meldingsutveksling.exceptions.ServiceNotEnabledException'))
    expect(refused.exitCode).toBe(EXIT.refused)
    expect(refused.line).toBe(
      'error: the integration point answered 400: went wrong (ServiceNotEnabledException)',
    )
    expect(refused.json).toMatchObject({
      error: { status: 400, exception: 'no.difi.meldingsutveksling.exceptions.ServiceNotEnabledException' },
    })
    expect(errorReport(api(404)).exitCode).toBe(EXIT.refused)
    expect(errorReport(api(500)).exitCode).toBe(EXIT.unreachable)
    expect(errorReport(api(503)).exitCode).toBe(EXIT.unreachable)
    expect(errorReport(new NetworkError('http://h', new Error('x'), 'ECONNREFUSED')).exitCode).toBe(
      EXIT.unreachable,
    )
    expect(errorReport(new UsageError('bad')).exitCode).toBe(EXIT.usage)
    expect(errorReport(new Error('disk full')).line).toBe('error: disk full')
  })
})
