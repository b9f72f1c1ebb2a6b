// The dependency direction the next channels will copy (issue 15): services take their own dependencies
// rather than the HTTP layer's AppDeps, what jobs and channels use does not live in ops/, configuration
// knows nothing of the features it configures, incoming intake does not lean on the outgoing side, and
// generic code reaches a service only through src/channels/ports.ts and registry.ts. A rule broken by a
// new import fails here with the file, the line and the import, before a copy of it spreads.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Code that only tests run: it may reach anywhere to set a scene. */
const TEST_ONLY = /\.test\.ts$|\/test-support\.ts$|\/test-helpers\.ts$|\.fixtures\.ts$|\.contract\.ts$/

interface Import {
  /** the importing file, `src/...` */
  from: string
  line: number
  /** as written */
  specifier: string
  /** the imported module, `src/....ts` */
  target: string
}

interface Rule {
  name: string
  /** whether `from` importing `target` breaks the rule */
  breaks(from: string, target: string): boolean
}

const under = (path: string, ...dirs: string[]) => dirs.some((d) => path.startsWith(`src/${d}/`))
const isRoute = (path: string) => path.endsWith('/routes.ts') || path === 'src/openapi/register.ts'

/** Modules that act for every service, so they must name none. */
const GENERIC = new Set([
  'src/main.ts',
  'src/messages/out/dispatch.ts',
  'src/messages/out/upload.ts',
  'src/ops/ops.ts',
  'src/ops/retention.ts',
  'src/sandbox.ts',
])

const RULES: Rule[] = [
  {
    name: 'jobs, channels, messages, webhooks and conversations do not import ops/ (move what they share to util/)',
    breaks: (from, target) =>
      under(from, 'jobs', 'channels', 'messages', 'webhooks', 'conversations') && under(target, 'ops'),
  },
  {
    name: 'config/ imports nothing from webhooks/, messages/, channels/ or http/',
    breaks: (from, target) =>
      under(from, 'config') && under(target, 'webhooks', 'messages', 'channels', 'http'),
  },
  {
    name: 'messages/in/ imports nothing from messages/out/ (shared helpers go to db/, sbd/ or util/)',
    breaks: (from, target) => under(from, 'messages/in') && under(target, 'messages/out'),
  },
  {
    name: 'only route modules and http/ import AppDeps; a service declares the deps it needs',
    breaks: (from, target) => target === 'src/http/app-deps.ts' && !under(from, 'http') && !isRoute(from),
  },
  // Issue 15 item 1 (the channel seam), written while that move was under way: main, dispatch, upload,
  // ops, retention and the sandbox reach a service only through ports.ts and registry.ts. When it fails,
  // a service's detail has crept back into generic code: move it behind the port, do not loosen the rule.
  {
    name: 'generic code names no service: it imports src/channels/ports.ts or registry.ts, never src/channels/<service>/',
    breaks: (from, target) => GENERIC.has(from) && /^src\/channels\/[^/]+\//.test(target),
  },
]

function sourceFiles(dir = 'src'): string[] {
  const out: string[] = []
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) out.push(...sourceFiles(path))
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts') && !TEST_ONLY.test(path)) out.push(path)
  }
  return out
}

/** Every relative import of `text` (static, `export ... from`, `import type`, dynamic), resolved to its `.ts` file. */
function importsOf(from: string, text: string): Import[] {
  const found = ts.preProcessFile(text, true, true).importedFiles
  return found
    .filter((f) => f.fileName.startsWith('.'))
    .map((f) => ({
      from,
      line: text.slice(0, f.pos).split('\n').length,
      specifier: f.fileName,
      target: posix.normalize(posix.join(dirname(from), f.fileName)).replace(/\.js$/, '.ts'),
    }))
}

function violations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = []
  for (const [from, text] of files) {
    for (const i of importsOf(from, text)) {
      for (const rule of RULES) {
        if (rule.breaks(i.from, i.target))
          out.push(`${i.from}:${i.line} imports '${i.specifier}': ${rule.name}`)
      }
    }
  }
  return out
}

describe('layering', () => {
  const files = new Map(sourceFiles().map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]))

  it('reads the imports it checks (a parser that found none would pass anything)', () => {
    expect(files.size).toBeGreaterThan(100)
    const targets = importsOf(
      'src/messages/out/routes.ts',
      files.get('src/messages/out/routes.ts') ?? '',
    ).map((i) => i.target)
    expect(targets).toContain('src/http/app-deps.ts')
    expect(targets).toContain('src/messages/out/create.ts')
  })

  it('keeps every rule in src/', () => {
    expect(violations(files)).toEqual([])
  })

  it('names the file, line and import of each kind of break', () => {
    const bad = new Map([
      ['src/jobs/x.ts', "import { forMessage } from '../ops/logging.js'"],
      ['src/config/x.ts', "\nexport { hostAllowed } from '../webhooks/endpoint.js'"],
      ['src/messages/in/x.ts', "const m = await import('../out/create.js')"],
      ['src/messages/out/x.ts', "import type { AppDeps } from '../../http/app-deps.js'"],
      [
        'src/messages/out/dispatch.ts',
        "import type {\n  DpoChannel,\n} from '../../channels/dpo/channel.js'",
      ],
      // allowed: a route takes AppDeps, web/ uses ops/, generic code uses the registry
      ['src/messages/out/routes.ts', "import type { AppDeps } from '../../http/app-deps.js'"],
      ['src/web/x.ts', "import { createOps } from '../ops/ops.js'"],
      ['src/main.ts', "import { enabledChannels } from './channels/registry.js'"],
    ])
    const found = violations(bad)
    expect(found.map((v) => v.replace(/: .*/, ''))).toEqual([
      "src/jobs/x.ts:1 imports '../ops/logging.js'",
      "src/config/x.ts:2 imports '../webhooks/endpoint.js'",
      "src/messages/in/x.ts:1 imports '../out/create.js'",
      "src/messages/out/x.ts:1 imports '../../http/app-deps.js'",
      "src/messages/out/dispatch.ts:3 imports '../../channels/dpo/channel.js'",
    ])
    expect(found.map((v) => RULES.findIndex((r) => v.endsWith(r.name)))).toEqual([0, 1, 2, 3, 4])
  })
})
