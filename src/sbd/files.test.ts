import { describe, expect, it } from 'vitest'
import {
  checkNewFile,
  checkSend,
  type FileInfo,
  formatDataSize,
  isPrimaryDocument,
  mimeTypeFor,
  needsFiles,
} from './files.js'
import { parseSbd } from './parse.js'
import { sbdJson } from './test-support.js'
import type { ServiceIdentifier, StandardBusinessDocument } from './types.js'

const MIB = 1024 * 1024

function file(filename: string, over: Partial<FileInfo> = {}): FileInfo {
  return {
    filename,
    title: 'Tittel',
    mimeType: 'application/pdf',
    size: 10,
    primaryDocument: false,
    dokumentnummer: 1,
    ...over,
  }
}

describe('mimeTypeFor', () => {
  it('keeps a given Content-Type verbatim', () => {
    expect(mimeTypeFor('a.pdf', 'text/plain;charset=UTF-8')).toBe('text/plain;charset=UTF-8')
  })

  it('derives from the extension when the type is blank or application/octet-stream', () => {
    const table: [string, string][] = [
      ['a.PDF', 'application/pdf'],
      ['a.html', 'text/html'],
      ['a.txt', 'text/plain'],
      ['arkivmelding.xml', 'text/xml'],
      ['a.doc', 'application/msword'],
      ['a.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
      ['a.xls', 'application/vnd.ms-excel'],
      ['a.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
      ['a.xltx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.template'],
      ['a.ppt', 'application/vnd.ms-powerpoint'],
      ['a.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
      ['a.odf', 'application/vnd.oasis.opendocument.formula'],
      ['a.odt', 'application/vnd.oasis.opendocument.text'],
      ['a.fods', 'application/vnd.oasis.opendocument.spreadsheet'],
      ['a.fodp', 'application/vnd.oasis.opendocument.presentation'],
      ['a.fodg', 'application/vnd.oasis.opendocument.graphics'],
      ['a.gif', 'image/gif'],
      ['a.jpeg', 'image/jpeg'],
      ['a.jpg', 'image/jpeg'],
      ['a.png', 'image/png'],
      ['a.zip', 'application/octet-stream'],
      ['a.unknown', 'application/pdf'],
      ['README', 'application/pdf'],
      ['a.png.', 'image/png'],
      ['', 'application/pdf'],
      ['...', 'application/pdf'],
    ]
    for (const [name, type] of table) {
      for (const given of [null, undefined, '', '  ', 'application/octet-stream'])
        expect(mimeTypeFor(name, given)).toBe(type)
    }
  })
})

describe('small helpers', () => {
  it('formats sizes as the reference', () => {
    expect(formatDataSize(123)).toBe('123b')
    expect(formatDataSize(MIB - 1)).toBe(`${MIB - 1}b`)
    expect(formatDataSize(MIB)).toBe('1MB')
    expect(formatDataSize(3 * MIB + 5)).toBe('3MB')
  })

  it('knows which types need files', () => {
    expect(['arkivmelding', 'digital', 'print', 'dialogmelding', 'innsynskrav'].every(needsFiles)).toBe(true)
    expect(
      ['status', 'avtalt', 'arkivmelding_kvittering', 'einnsyn_kvittering', 'dialogmelding_kvittering'].some(
        needsFiles,
      ),
    ).toBe(false)
  })

  it('finds the primary document by hoveddokument', () => {
    const sbd = parseSbd(sbdJson('arkivmelding', { hoveddokument: 'a.pdf' }))
    expect(isPrimaryDocument(sbd, 'a.pdf')).toBe(true)
    expect(isPrimaryDocument(sbd, 'b.pdf')).toBe(false)
    expect(isPrimaryDocument(parseSbd(sbdJson('arkivmelding')), 'a.pdf')).toBe(false)
    expect(isPrimaryDocument(parseSbd(sbdJson('dialogmelding_kvittering', {})), 'a.pdf')).toBe(false)
  })
})

describe('checkNewFile', () => {
  const check = (
    sbd: StandardBusinessDocument,
    si: ServiceIdentifier,
    existing: FileInfo[],
    f: Partial<FileInfo> & { filename: string },
    limit = 100,
  ) =>
    checkNewFile({
      sbd,
      serviceIdentifier: si,
      existing,
      file: { title: 'T', mimeType: 'application/pdf', size: 10, ...f },
      limitBytes: limit,
    })
  const arkiv = parseSbd(sbdJson('arkivmelding', { hoveddokument: 'a.pdf' }))

  it('refuses a duplicate filename first', () => {
    const e = check(arkiv, 'DPO', [file('a.pdf')], { filename: 'a.pdf', size: 1e9 })
    expect([e?.code, e?.message]).toEqual(['DuplicateFilename', 'Filename already exists in message: a.pdf.'])
  })

  it('refuses a total over the limit, in bytes below 1 MiB and in MB above', () => {
    expect(check(arkiv, 'DPE', [file('x', { size: 60 })], { filename: 'y', size: 40 })).toBeUndefined()
    expect(check(arkiv, 'DPE', [file('x', { size: 60 })], { filename: 'y', size: 63 })?.message).toBe(
      'The combined file size for all attachments (123b) exceeds the maximum allowed upload size for the target service (DPE, 100b)',
    )
    expect(
      check(arkiv, 'DPE', [file('x', { size: 2 * MIB })], { filename: 'y', size: MIB + 1 }, 2 * MIB)?.message,
    ).toBe(
      'The combined file size for all attachments (3MB) exceeds the maximum allowed upload size for the target service (DPE, 2MB)',
    )
  })

  it('refuses a second primary document', () => {
    expect(
      check(arkiv, 'DPO', [file('b.pdf', { primaryDocument: true })], { filename: 'a.pdf' })?.message,
    ).toBe('Messages can only contain one primary document')
    expect(check(arkiv, 'DPO', [file('b.pdf')], { filename: 'a.pdf' })).toBeUndefined()
  })

  it('requires titles for DPV, and for DPI except primary and metadata documents', () => {
    expect(check(arkiv, 'DPV', [], { filename: 'a.pdf', title: ' ' })?.message).toBe(
      'Title is required for the following capabilities: DPV',
    )
    expect(check(arkiv, 'DPO', [], { filename: 'b.pdf', title: null })).toBeUndefined()
    const digital = parseSbd(
      sbdJson('digital', { hoveddokument: 'a.pdf', metadataFiler: { 'a.pdf': 'a.xml' } }),
    )
    expect(check(digital, 'DPI', [], { filename: 'a.pdf', title: null })).toBeUndefined()
    expect(check(digital, 'DPI', [], { filename: 'a.xml', title: null })).toBeUndefined()
    expect(check(digital, 'DPI', [], { filename: 'b.pdf', title: null })?.message).toBe(
      'Title is required for the following capabilities: DPI',
    )
    expect(check(parseSbd(sbdJson('print', {})), 'DPI', [], { filename: 'b.pdf', title: null })?.code).toBe(
      'MissingFileTitle',
    )
  })

  it('requires DPH attachments to be named in metadataFiler and be PDF, PNG or JPEG', () => {
    const dm = parseSbd(
      sbdJson('dialogmelding', { hoveddokument: 'a.xml', metadataFiler: { 'b.png': { description: 'x' } } }),
    )
    expect(check(dm, 'DPH', [], { filename: 'a.xml', mimeType: 'text/xml' })).toBeUndefined()
    expect(check(dm, 'DPH', [], { filename: 'b.png', mimeType: 'image/png' })).toBeUndefined()
    expect(check(dm, 'DPH', [], { filename: 'b.png', mimeType: 'IMAGE/PNG; q=1' })).toBeUndefined()
    expect(check(dm, 'DPH', [], { filename: 'c.png', mimeType: 'image/png' })?.message).toBe(
      'Title is required for the following capabilities: DPH',
    )
    expect(check(dm, 'DPH', [], { filename: 'b.png', mimeType: 'text/plain' })?.message).toBe(
      '--no.difi.meldingsutveksling.exceptions.InvalidContentTypeException-- [Invalid content type: text/plain]',
    )
  })
})

describe('checkSend', () => {
  const now = new Date('2026-01-15T12:00:00+01:00')
  const send = (
    sbd: StandardBusinessDocument,
    si: ServiceIdentifier,
    files: FileInfo[],
    arkivmeldingFiles: string[] | null = null,
  ) => checkSend({ sbd, serviceIdentifier: si, files, now, arkivmeldingFiles })

  it('requires a file unless status, receipt or avtalt', () => {
    expect(send(parseSbd(sbdJson('digital_dpv')), 'DPV', [])?.message).toBe(
      'There must always be at least one attachment',
    )
    expect(send(parseSbd(sbdJson('avtalt')), 'DPO', [])).toBeUndefined()
    expect(send(parseSbd(sbdJson('einnsyn_kvittering')), 'DPE', [])).toBeUndefined()
  })

  it('refuses an expired message with its time as given', () => {
    const expired = parseSbd(sbdJson('avtalt', {}, { expectedResponseDateTime: '2026-01-15T11:59:59+01:00' }))
    const e = send(expired, 'DPO', [])
    expect([e?.code, e?.message]).toEqual([
      'TimeToLive',
      'ExpectedResponseDateTime 2026-01-15T11:59:59+01:00 has been exceeded. Please resend the message',
    ])
    expect(
      send(
        parseSbd(sbdJson('avtalt', {}, { expectedResponseDateTime: '2026-01-15T12:00:00+01:00' })),
        'DPO',
        [],
      ),
    ).toBeUndefined()
  })

  it('requires arkivmelding.xml and every file it references', () => {
    const arkiv = parseSbd(sbdJson('arkivmelding'))
    expect(send(arkiv, 'DPO', [file('a.pdf')])?.message).toBe(
      'DPO message type requires arkivmelding.xml attachment',
    )
    const files = [file('arkivmelding.xml'), file('a.pdf')]
    expect(send(arkiv, 'DPO', files, ['a.pdf'])).toBeUndefined()
    expect(send(arkiv, 'DPF', files, ['a.pdf', 'b.pdf', 'c.pdf'])?.message).toBe(
      'File(s) defined in arkivmelding, but not found in message: b.pdf,c.pdf',
    )
  })

  it('requires every metadataFiler name of a digital message (404 as the reference)', () => {
    const digital = parseSbd(
      sbdJson('digital', { hoveddokument: 'a.pdf', metadataFiler: { 'a.pdf': 'a.xml', 'b.pdf': 'b.xml' } }),
    )
    const e = send(digital, 'DPI', [file('a.pdf', { primaryDocument: true }), file('a.xml')])
    expect([e?.status, e?.exception, e?.message]).toEqual([
      404,
      'no.difi.meldingsutveksling.exceptions.FileNotFoundException',
      'File(s) named b.pdf, b.xml was not found',
    ])
  })

  it('requires a primary document for DPI and for DPH dialogmelding', () => {
    const text =
      'Missing a primary document. Please specify the hoveddokument property in the business message and verify that is equal to one of the filenames.'
    expect(send(parseSbd(sbdJson('print', {})), 'DPI', [file('a.pdf')])?.message).toBe(text)
    expect(send(parseSbd(sbdJson('dialogmelding', {})), 'DPH', [file('a.pdf')])?.message).toBe(text)
    expect(
      send(parseSbd(sbdJson('print', {})), 'DPI', [file('a.pdf', { primaryDocument: true })]),
    ).toBeUndefined()
    expect(send(parseSbd(sbdJson('digital_dpv', {})), 'DPV', [file('a.pdf')])).toBeUndefined()
  })
})
