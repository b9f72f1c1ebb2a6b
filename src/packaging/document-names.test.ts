import { createWriteStream, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isSafeEntryName } from '../../packages/client/src/asic.js'
import { AsicWriteError, readAsic, writeAsic } from './asic.js'
import { collidingName, documentNameProblem, documentNamesProblem } from './document-names.js'
import { makeIdentity, makeTempDir, type TestIdentity } from './test-support.js'

describe('documentNameProblem', () => {
  it.each([
    'a.txt',
    'æøå vedtak.pdf',
    'report..pdf',
    '.hidden',
    'x'.repeat(255),
    'æ'.repeat(127),
    '😀.png',
    'møte 12:30.pdf',
    'a b',
  ])('accepts %j', (name) => expect(documentNameProblem(name)).toBeNull())

  it.each([
    '',
    '.',
    '..',
    '...',
    ' . ',
    'a/b.txt',
    '../etc/passwd',
    '/etc/passwd',
    'a\\b.txt',
    'C:x.pdf',
    'c:\\x.pdf',
    'z:',
    'a\u0000b',
    'line\nbreak',
    'tab\there',
    'del\u007f',
    'c1\u0085',
    'x'.repeat(256),
    'æ'.repeat(128),
    'lone\ud800surrogate',
    'not\uffffxml',
    ' leading.pdf',
    'trailing.pdf ',
    'nbsp.pdf\u00a0',
    'mimetype',
    'MimeType',
    'manifest.xml',
    'MANIFEST.XML',
    'META-INF',
    'META-INF/manifest.xml',
  ])('refuses %j', (name) => expect(documentNameProblem(name)).not.toBeNull())

  it('finds names that are one file once unpacked: case and Unicode normal form', () => {
    expect(collidingName(['a.pdf', 'b.pdf'])).toBeNull()
    expect(collidingName(['Vedtak.pdf', 'vedtak.PDF'])).toBe('vedtak.PDF')
    expect(collidingName(['\u00e5.pdf', 'a\u030a.pdf'])).toBe('a\u030a.pdf')
    expect(documentNamesProblem(['a.pdf', 'A.pdf'])).toMatch(/another document has that name/)
    expect(documentNamesProblem(['a.pdf', 'C:x.pdf'])).toMatch(/drive letter/)
  })
})

describe('the ASiC-E writer and the upload share the rule', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let org: TestIdentity
  let n = 0
  beforeAll(() => {
    tmp = makeTempDir('document-names-')
    org = makeIdentity(tmp.dir, 'org', { bits: 1024 })
  })
  afterAll(() => tmp.cleanup())

  const pack = (names: string[]) =>
    writeAsic({
      sender: '0192:910077473',
      receiver: '0192:910075918',
      signer: { keyPem: org.keyPem, certPem: org.certPem },
      documents: names.map((filename, i) => ({
        filename,
        mimeType: 'application/octet-stream',
        primary: i === 0,
        open: () => Readable.from([Buffer.from(filename)]),
      })),
    })

  it('refuses to write a name the rule refuses, as a failure no retry can mend', () => {
    for (const names of [['C:x.pdf'], ['mimetype'], ['a.pdf', 'A.pdf'], [' a.pdf']]) {
      let error: unknown
      try {
        pack(names).destroy()
      } catch (e) {
        error = e
      }
      expect(error, names.join()).toBeInstanceOf(AsicWriteError)
      expect((error as AsicWriteError).retryable).toBe(false)
    }
  })

  // names from awkward characters: separators, dots, colons, spaces, controls, non-ASCII, XML specials
  const char = fc.constantFrom(
    ...'aZ09.-_ :;\\/&<>"\'%#*?æøÅ€😀\u00a0\u0301\t\u0000\u2028'.split(''),
    '\u00e5',
    'a\u030a',
    'C:',
    '..',
  )
  const name = fc.oneof(
    fc.array(char, { minLength: 0, maxLength: 12 }).map((cs) => cs.join('')),
    fc.constantFrom('mimetype', 'manifest.xml', 'META-INF', 'x.pdf', 'X.PDF'),
  )

  it('packs every set of names the upload accepts, and the receiving side reads them back unchanged', async () => {
    const accepted = fc
      .uniqueArray(name, { minLength: 1, maxLength: 4 })
      .filter((names) => documentNamesProblem(names) === null)
    await fc.assert(
      fc.asyncProperty(accepted, async (names) => {
        const dir = join(tmp.dir, String(n++))
        mkdirSync(dir)
        const path = join(dir, 'a.asice')
        await pipeline(pack(names), createWriteStream(path))
        const read = await readAsic(path, {
          maxEntries: 20,
          maxEntryBytes: 1_000_000,
          maxTotalBytes: 1_000_000,
          maxRatio: 100,
          tempDir: dir,
        })
        const documents = read.files.map((f) => f.filename).filter((f) => f !== 'manifest.xml')
        expect(documents.sort()).toEqual([...names].sort())
        expect(read.manifest?.hoveddokument?.href).toBe(names[0])
        // the client's unpacking accepts them too
        for (const n of names) expect(isSafeEntryName(n), n).toBe(true)
      }),
      { numRuns: 60 },
    )
  })
})
