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

/**
 * Citations left in files another change was editing when this test was written. The lead removes
 * them (and these entries) once that change is in; an entry that no longer matches fails the test,
 * so the list only shrinks. `text` is part of the line, so the entry survives edits above it.
 */
const ALLOWED: { file: string; text: string }[] = [
  { file: 'src/openapi/paths-messages.ts', text: 'sending (§2.2–2.7) and receiving (§2.8–2.11)' },
  { file: 'src/files/multipart.ts', text: '(reference §2.5)' },
  { file: 'src/files/content-disposition.ts', text: '(reference §2.3)' },
  { file: 'src/messages/out/delete.ts', text: '`DELETE /api/messages/out/{messageId}` (§2.7)' },
  { file: 'src/messages/out/certificate.ts', text: '§2.4 #1 and §4.7 #3' },
  { file: 'src/messages/out/upload.ts', text: '`PUT /api/messages/out/{messageId}` (§2.3)' },
  { file: 'src/messages/out/upload.ts', text: "§2.3's checks before a byte is read" },
  { file: 'src/messages/out/create.ts', text: '(§2.2 steps 1–4)' },
  { file: 'src/messages/out/create.ts', text: '§4.7 #1–2: a messageId is used once' },
  { file: 'src/messages/out/dispatch.ts', text: '(transports.md §1.5)' },
  { file: 'src/messages/out/routes.ts', text: '`GET /api/messages/out` (§2.6)' },
  { file: 'src/messages/out/routes.ts', text: '`/api/messages/out` (§2.2–2.7)' },
  { file: 'src/messages/out/service-resolution.ts', text: '(§4.6, service-registry.md §4.1)' },
  { file: 'src/messages/out/send.ts', text: '`POST /api/messages/out/{messageId}` (§2.4)' },
  { file: 'src/messages/out/send.ts', text: "§2.4's checks over a stored message" },
  { file: 'src/messages/out/multipart-send.ts', text: '`POST /api/messages/out/multipart` (§2.5)' },
]

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

const allowedBy = (hit: Hit) => ALLOWED.find((a) => a.file === hit.file && hit.text.includes(a.text))

describe('citations', () => {
  const hits = citations()

  it('point only at what a reader of the repository can open', () => {
    const unexpected = hits.filter((h) => !allowedBy(h)).map((h) => `${h.file}:${h.line}: ${h.text.trim()}`)
    expect(unexpected).toEqual([])
  })

  it('leave no stale entry in the allow-list', () => {
    const stale = ALLOWED.filter((a) => !hits.some((h) => allowedBy(h) === a)).map(
      (a) => `${a.file}: ${a.text}`,
    )
    expect(stale).toEqual([])
  })

  it('are found by the check (it is not blind)', () => {
    for (const text of ['see transports.md', 'as nextmove-api.md says', '(§2.4)', 'reference-notes'])
      expect(cites(text)).toBe(true)
    for (const text of ['RFC 5280 §4.1.2.5', 'docs/service-registry-standin.md', 'docs/webhooks.md'])
      expect(cites(text)).toBe(false)
  })
})
