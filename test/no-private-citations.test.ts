// Comments, tests, benchmarks and docs may cite only what a reader of the repository can open: our own
// docs, the reference implementation by repository and class (felleslosninger/…), Altinn's published
// OpenAPI, docs.digdir.no, RFCs and ETSI specs. Design notes kept outside the repository (transports.md,
// nextmove-api.md, … and their bare section marks like "§2.4") cannot be followed, so none may appear.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SELF = 'test/no-private-citations.test.ts'
const SCANNED = ['src', 'packages/client/src', 'test', 'bench', 'docs']
const SCANNED_FILES = ['README.md', 'packages/client/README.md']
const EXTENSIONS = /\.(ts|mjs|js|md)$/

const NOTES = 'transports|nextmove-api|service-registry|operators-and-users|dpv|dpi|dpe|dpf-svarut'
const PRIVATE: RegExp[] = [
  new RegExp(`(?<![\\w./-])(${NOTES})\\.md\\b`),
  /reference-notes/,
  /shared\/reference\/[\w-]+\.md/,
  /(?<![\w/])(DESIGN|STYLE)\.md\b|design principle \d/,
]
/** A section mark is fine after an RFC's number ("RFC 5280 §4.1"); any other points into the notes. */
const BARE_SECTION = /(?<!RFC \d+ )§/
const cites = (text: string) => PRIVATE.some((re) => re.test(text)) || BARE_SECTION.test(text)

function files(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) out.push(...files(path))
    else if (EXTENSIONS.test(entry.name)) out.push(path)
  }
  return out
}

interface Hit {
  file: string
  line: number
  text: string
}

function citations(): Hit[] {
  const hits: Hit[] = []
  for (const file of [...SCANNED.flatMap(files), ...SCANNED_FILES]) {
    if (file === SELF) continue
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n')
    lines.forEach((text, i) => {
      if (cites(text)) hits.push({ file, line: i + 1, text })
    })
  }
  return hits
}

describe('citations', () => {
  const hits = citations()

  it('point only at what a reader of the repository can open', () => {
    const unexpected = hits.map((h) => `${h.file}:${h.line}: ${h.text.trim()}`)
    expect(unexpected).toEqual([])
  })

  it('are found by the check (it is not blind)', () => {
    for (const text of ['see transports.md', 'as nextmove-api.md says', '(§2.4)', 'reference-notes'])
      expect(cites(text)).toBe(true)
    for (const text of ['RFC 5280 §4.1.2.5', 'docs/service-registry-standin.md', 'docs/webhooks.md'])
      expect(cites(text)).toBe(false)
  })
})
