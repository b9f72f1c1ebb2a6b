import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { extractDocuments, isDocumentEntry, isSafeEntryName, writeAtomically } from './asic.js'
import { UnsafePackageError } from './errors.js'

async function zipOf(entries: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, text] of Object.entries(entries)) zip.addBuffer(Buffer.from(text), name)
  zip.end()
  const chunks: Buffer[] = []
  for await (const c of zip.outputStream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

describe('entry names', () => {
  it('takes plain relative names only', () => {
    expect(['a.pdf', 'sub/b.txt', 'vedlegg..pdf', 'æøå.txt'].every(isSafeEntryName)).toBe(true)
    const unsafe = ['../a', 'a/../../b', '/etc/passwd', 'C:evil', 'c:\\x', 'a\\b', './a', '', 'a/./b']
    expect(unsafe.filter(isSafeEntryName)).toEqual([])
  })

  it('counts the documents, not the container files', () => {
    const names = ['mimetype', 'manifest.xml', 'META-INF/signatures.p7s', 'META-INF/', 'vedtak.pdf', 'dir/']
    expect(names.filter(isDocumentEntry)).toEqual(['vedtak.pdf'])
  })
})

describe('extractDocuments', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'client-asic-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes the documents in container order and nothing else', async () => {
    const zip = join(dir, 'asic.zip')
    await writeFile(
      zip,
      await zipOf({
        mimetype: 'application/vnd.etsi.asic-e+zip',
        'manifest.xml': '<manifest/>',
        'arkivmelding.xml': '<arkivmelding/>',
        'vedtak.pdf': '%PDF',
        'META-INF/manifest.xml': '<m/>',
      }),
    )
    const out = join(dir, 'out')
    expect(await extractDocuments(zip, out)).toEqual([join(out, 'arkivmelding.xml'), join(out, 'vedtak.pdf')])
    expect(await readFile(join(out, 'vedtak.pdf'), 'utf8')).toBe('%PDF')
    expect((await readdir(out)).sort()).toEqual(['arkivmelding.xml', 'vedtak.pdf'])
  })

  it('refuses a container with a name that climbs out, before writing anything', async () => {
    // yazl will not write such a name: write a safe one of the same length and patch the bytes
    const safe = await zipOf({ 'ok.txt': 'fine', 'xx/evil.txt': 'gotcha' })
    const evil = Buffer.from(safe.toString('latin1').replaceAll('xx/evil.txt', '../evil.txt'), 'latin1')
    const zip = join(dir, 'evil.zip')
    await writeFile(zip, evil)
    const out = join(dir, 'out')
    await expect(extractDocuments(zip, out)).rejects.toThrow(/ASiC-E/)
    await expect(readdir(out)).rejects.toThrow()
    await expect(readdir(dir)).resolves.toEqual(['evil.zip'])
  })

  it('refuses, before writing anything, documents that would inflate past the ratio (a zip bomb)', async () => {
    // deflate inflates zeros about 1024 to 1; a real bomb goes further with entries sharing their data
    const bomb = new yazl.ZipFile()
    bomb.addBuffer(Buffer.from('fine'), 'ok.txt')
    bomb.addBuffer(Buffer.alloc(40 * 1024 * 1024), 'zeros.txt')
    bomb.end()
    const chunks: Buffer[] = []
    for await (const c of bomb.outputStream) chunks.push(c as Buffer)
    const zip = join(dir, 'bomb.zip')
    await writeFile(zip, Buffer.concat(chunks))
    const out = join(dir, 'out')
    const refusal = extractDocuments(zip, out)
    await expect(refusal).rejects.toBeInstanceOf(UnsafePackageError)
    await expect(refusal).rejects.toThrow(/too large: its documents would inflate to 41943044 bytes/)
    await expect(readdir(out)).rejects.toThrow()
  })

  it('says so when the bytes are not a zip', async () => {
    const zip = join(dir, 'not.zip')
    await writeFile(zip, 'plain text')
    await expect(extractDocuments(zip, dir)).rejects.toThrow(/could not be read/)
  })
})

describe('writeAtomically', () => {
  it('leaves no temporary file behind when the stream fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'client-atomic-'))
    try {
      const failing = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array([1, 2, 3]))
          c.error(new Error('connection lost'))
        },
      })
      await expect(writeAtomically(failing, join(dir, 'asic.zip'))).rejects.toThrow('connection lost')
      expect(await readdir(dir)).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
