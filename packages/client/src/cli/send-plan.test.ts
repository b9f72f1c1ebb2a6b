import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { UsageError } from './exit.js'
import { DEFAULT_PROCESS, planSend, typeForProcess } from './send-plan.js'

const dir = mkdtempSync(join(tmpdir(), 'send-plan-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, content = 'x'.repeat(10)) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

describe('planSend', () => {
  it('generates arkivmelding.xml first, names the first file hoveddokument, titles files by name', () => {
    const plan = planSend({
      process: DEFAULT_PROCESS,
      title: 'Vedtak',
      files: [file('vedtak.pdf'), file('kart.png')],
    })
    expect(plan.type).toBe('arkivmelding')
    expect(plan.generatedArkivmelding).toBe(true)
    expect(plan.businessMessage).toEqual({ hoveddokument: 'vedtak.pdf' })
    expect(plan.files.map((f) => [f.filename, f.title])).toEqual([
      ['arkivmelding.xml', 'Arkivmelding'],
      ['vedtak.pdf', 'vedtak'],
      ['kart.png', 'kart'],
    ])
    const xml = String((plan.files[0] as { data: string }).data)
    expect(xml).toContain('<offentligTittel>Vedtak</offentligTittel>')
    expect(plan.totalBytes).toBe(Buffer.byteLength(xml) + 20)
  })

  it('uses a given arkivmelding.xml, from --arkivmelding or among the files', () => {
    const own = file('my-am.xml', '<arkivmelding/>')
    const viaOption = planSend({ process: DEFAULT_PROCESS, arkivmelding: own, files: [file('a.pdf')] })
    expect(viaOption.generatedArkivmelding).toBe(false)
    expect(viaOption.files[0]).toMatchObject({ path: own, filename: 'arkivmelding.xml' })
    mkdirSync(join(dir, 'sub'), { recursive: true })
    const among = join(dir, 'sub', 'arkivmelding.xml')
    writeFileSync(among, '<arkivmelding/>')
    const viaFiles = planSend({ process: DEFAULT_PROCESS, files: [among, file('b.pdf')] })
    expect(viaFiles.files.map((f) => f.filename)).toEqual(['arkivmelding.xml', 'b.pdf'])
    expect(viaFiles.businessMessage).toEqual({ hoveddokument: 'b.pdf' })
  })

  it('takes the type from the process, or --type, and merges --business-message', () => {
    const plan = planSend({
      process: 'urn:no:difi:profile:avtalt:avtalt:ver1.0',
      businessMessage: '{"identifier": "x", "content": {"a": 1}}',
      files: [file('notat.txt')],
    })
    expect(plan.type).toBe('avtalt')
    expect(plan.files.map((f) => f.filename)).toEqual(['notat.txt'])
    expect(plan.businessMessage).toEqual({ hoveddokument: 'notat.txt', identifier: 'x', content: { a: 1 } })
    expect(typeForProcess('urn:no:difi:profile:arkivmelding:response:ver1.0')).toBe('arkivmelding_kvittering')
    expect(typeForProcess('urn:no:difi:profile:einnsyn:journalpost:ver1.0')).toBe('publisering')
    expect(typeForProcess('urn:no:difi:profile:digitalpost:vedtak:ver1.0')).toBeUndefined()
    const receipt = planSend({
      process: 'urn:no:difi:profile:arkivmelding:response:ver1.0',
      businessMessage: '{"receiptType": "OK", "relatedToMessageId": "m"}',
      files: [],
    })
    expect(receipt).toMatchObject({ type: 'arkivmelding_kvittering', files: [], totalBytes: 0 })
    expect(receipt.businessMessage).toEqual({ receiptType: 'OK', relatedToMessageId: 'm' })
  })

  it('refuses what cannot be sent, as usage errors', () => {
    const p = DEFAULT_PROCESS
    const cases: [Parameters<typeof planSend>[0], RegExp][] = [
      [{ process: p, files: [] }, /at least one FILE/],
      [{ process: p, files: [join(dir, 'missing.pdf')] }, /cannot read .*missing\.pdf: ENOENT/],
      [{ process: p, files: [dir] }, /is not a file/],
      [
        { process: p, files: [file('same.pdf'), join(dir, 'sub', '..', 'same.pdf')] },
        /two files are named same\.pdf/,
      ],
      [{ process: 'urn:no:difi:profile:digitalpost:info:ver1.0', files: [] }, /give --type/],
      [{ process: p, type: 'brev', files: [] }, /--type must be one of status, arkivmelding/],
      [
        { process: p, type: 'avtalt', arkivmelding: file('am.xml'), files: [] },
        /--arkivmelding is for arkivmelding/,
      ],
      [{ process: p, businessMessage: '[1]', files: [file('c.pdf')] }, /must be a JSON object/],
      [{ process: p, businessMessage: '{', files: [file('c.pdf')] }, /is not JSON/],
    ]
    for (const [args, message] of cases) {
      expect(() => planSend(args)).toThrow(message)
      expect(() => planSend(args)).toThrow(UsageError)
    }
  })
})
