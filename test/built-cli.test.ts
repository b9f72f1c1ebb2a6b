// The command line as it ships: dist/src/cli.js, the entry `npm run build` writes (scripts/cli-entry.mjs),
// loading the esbuild bundle (scripts/bundle-cli.mjs) with its code cache. The other process tests run src/
// through tsx, so only this one would see a bundled package that reads files beside its code, or a bundle
// that fails to load. Needs a build (npm ci runs one); a missing or pre-bundle build fails with what to run.
import { type ChildProcess, spawn } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import Module from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = new URL('..', import.meta.url).pathname
const CLI = join(ROOT, 'dist/src/cli.js')

/** Spawns the built command line in `cwd` and waits for its "… on http://host:port" line. */
async function spawnBuilt(
  args: string[],
  cwd: string,
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no start within 20 s:\n${out}`))
    }, 20_000)
    const onData = (d: Buffer) => {
      out += d
      const m = ready.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited ${code}:\n${out}`))
    })
  })
  return { child, url }
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    child.once('exit', (code) => resolve(code))
    child.kill('SIGTERM')
  })
}

describe('the built command line (dist/src/cli.js)', () => {
  let dir: string
  beforeAll(() => {
    const built = existsSync(CLI) ? readFileSync(CLI, 'utf8') : ''
    if (!built.includes('./cli-bundle/cli.cjs'))
      throw new Error(`${CLI} is missing or not the bundle's entry: npm run build`)
    dir = mkdtempSync(join(tmpdir(), 'built-cli-'))
  })
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** `<name>.properties` in the test's folder: an integration point on a free port with `<name>.sqlite` */
  const writeProperties = (name: string) => {
    const config = join(dir, `${name}.properties`)
    writeFileSync(
      config,
      [
        'difi.move.org.number=910075918',
        'difi.security.enable=false',
        'difi.ssl.enabled=false',
        'server.port=0',
        'server.address=127.0.0.1',
        `difi.datasource.url=jdbc:sqlite:${join(dir, `${name}.sqlite`)}`,
      ].join('\n'),
    )
    return config
  }

  it('starts an integration point that answers its probes, its info, the OpenAPI document and Swagger UI, and stops with 0', async () => {
    const config = writeProperties('ip')
    const { child, url } = await spawnBuilt(
      ['start', '--config', config],
      dir,
      /ready on (http:\/\/[^"\s]+)/,
      {
        NODE_COMPILE_CACHE: join(dir, 'cache'),
      },
    )
    try {
      expect((await fetch(`${url}/manage/health/readiness`)).status).toBe(200)
      // the bundle finds this package's package.json from its own folder
      const info = (await (await fetch(`${url}/manage/info`)).json()) as { build: { version: string } }
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
      expect(info.build.version).toBe(pkg.version)
      const doc = (await (await fetch(`${url}/v3/api-docs`)).json()) as {
        openapi: string
        info: { version: string }
      }
      expect(doc.openapi).toMatch(/^3\./)
      expect(doc.info.version).toBe(pkg.version)
      // Swagger UI's files come from its package folder, outside the bundle
      const page = await fetch(`${url}/swagger-ui/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('swagger-ui-bundle.js')
      const css = await fetch(`${url}/swagger-ui/static/swagger-ui.css`)
      expect(css.status).toBe(200)
      expect((await css.arrayBuffer()).byteLength).toBeGreaterThan(1000)
    } finally {
      expect(await stop(child)).toBe(0)
    }
  }, 40_000)

  it('runs a stand-in from the bundle, with the sandbox catalogue found from it', async () => {
    const { child, url } = await spawnBuilt(
      ['service-registry', '--port', '0'],
      dir,
      /ServiceRegistry stand-in at (http:\/\/[^\s"]+)/,
    )
    try {
      const res = await fetch(`${url}/identifier/910075918`)
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('910075918')
    } finally {
      expect(await stop(child)).toBe(0)
    }
  }, 40_000)

  // Node.js 22.1 and later use Node's own compile cache, whose files are Node's business
  it.skipIf(typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function')(
    'keeps the compiled code of `start` between starts (Node.js 20) and starts as well from a damaged cache',
    async () => {
      const cache = join(dir, 'code-cache')
      const config = writeProperties('cached')
      const startOnce = async () => {
        const { child, url } = await spawnBuilt(
          ['start', '--config', config],
          dir,
          /ready on (http:\/\/[^"\s]+)/,
          {
            NODE_COMPILE_CACHE: cache,
          },
        )
        try {
          expect((await fetch(`${url}/manage/health/readiness`)).status).toBe(200)
        } finally {
          expect(await stop(child)).toBe(0)
        }
      }
      const cacheFile = () => {
        const files = readdirSync(join(cache, 'integrasjonspunkt'))
        expect(files).toHaveLength(1)
        expect(files[0]).toMatch(/^[0-9a-f]{40}-start\.v8$/)
        return join(cache, 'integrasjonspunkt', files[0]!)
      }
      await startOnce()
      const written = readFileSync(cacheFile())
      expect(written.length).toBeGreaterThan(100_000)
      // damaged in the middle: the checksum no longer matches, so it is not used, and is written again
      const damaged = Buffer.from(written)
      damaged.fill(0xa5, damaged.length >> 1, (damaged.length >> 1) + 64)
      writeFileSync(cacheFile(), damaged)
      await startOnce()
      expect(readFileSync(cacheFile()).equals(damaged)).toBe(false)
      // cut short (a write that did not finish elsewhere), and then whole again
      writeFileSync(cacheFile(), written.subarray(0, 1000))
      await startOnce()
      expect(readFileSync(cacheFile()).length).toBeGreaterThan(100_000)
      expect(statSync(cacheFile()).mode & 0o777).toBe(0o600)
      // one that others could have written is not run, and is replaced
      chmodSync(cacheFile(), 0o666)
      await startOnce()
      expect(statSync(cacheFile()).mode & 0o777).toBe(0o600)
      await startOnce()
    },
    60_000,
  )

  // V8 drops the compiled code of functions that have not run for a few full collections, so a cache
  // written ten seconds into a busy run (the fallback for a server) held half of what a start compiles
  it.skipIf(typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function')(
    'writes the code cache of `start` as soon as it is ready, while it runs, not ten seconds later (Node.js 20)',
    async () => {
      const cache = join(dir, 'ready-cache')
      const { child } = await spawnBuilt(
        ['start', '--config', writeProperties('ready')],
        dir,
        /ready on (http:\/\/[^"\s]+)/,
        { NODE_COMPILE_CACHE: cache },
      )
      const ready = Date.now()
      try {
        const folder = join(cache, 'integrasjonspunkt')
        const written = () =>
          existsSync(folder) && readdirSync(folder).some((f) => /^[0-9a-f]{40}-start\.v8$/.test(f))
        while (!written() && Date.now() - ready < 5_000) await new Promise((r) => setTimeout(r, 50))
        expect(written(), 'the cache file within 5 s of ready, the server still running').toBe(true)
        expect(child.exitCode).toBe(null)
      } finally {
        expect(await stop(child)).toBe(0)
      }
    },
    30_000,
  )
})
