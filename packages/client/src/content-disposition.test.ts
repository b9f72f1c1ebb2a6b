import { describe, expect, it } from 'vitest'
import { contentDisposition, extValue, mimeTypeOf } from './content-disposition.js'

describe('contentDisposition', () => {
  it('quotes plain names', () => {
    expect(contentDisposition('attachment', { name: 'Before The Law', filename: 'before_the_law.txt' })).toBe(
      'attachment; name="Before The Law"; filename="before_the_law.txt"',
    )
    expect(contentDisposition('form-data', { name: 'a "b" \\ c; d=e', filename: 'x.pdf' })).toBe(
      'form-data; name="a \\"b\\" \\\\ c; d=e"; filename="x.pdf"',
    )
  })

  it('writes a multipart part header as UTF-8, controls as spaces', () => {
    expect(contentDisposition('form-data', { name: 'Blåbær\r\n', filename: 'æ.pdf' })).toBe(
      'form-data; name="Blåbær  "; filename="æ.pdf"',
    )
  })

  it('adds the RFC 5987 form after an ASCII fallback for anything else in an upload header', () => {
    expect(contentDisposition('attachment', { name: 'Vedtak', filename: 'blåbær.pdf' })).toBe(
      `attachment; name="Vedtak"; filename="bl_b_r.pdf"; filename*=UTF-8''bl%C3%A5b%C3%A6r.pdf`,
    )
    expect(contentDisposition('attachment', { name: 'line\r\nbreak', filename: 'a.txt' })).toBe(
      `attachment; name="line__break"; name*=UTF-8''line%0D%0Abreak; filename="a.txt"`,
    )
  })

  it('percent-encodes every byte that is not an attr-char', () => {
    expect(extValue("a b'%*()")).toBe('a%20b%27%25%2A%28%29')
    expect(extValue('😀')).toBe('%F0%9F%98%80')
    expect(extValue('!#$&+-.^_`|~Az9')).toBe('!#$&+-.^_`|~Az9')
  })
})

describe('mimeTypeOf', () => {
  it('knows the common extensions, case-insensitively, and falls back to octet-stream', () => {
    expect(mimeTypeOf('a.PDF')).toBe('application/pdf')
    expect(mimeTypeOf('arkivmelding.xml')).toBe('application/xml')
    expect(mimeTypeOf('x.json')).toBe('application/json')
    expect(mimeTypeOf('x.txt')).toBe('text/plain')
    expect(mimeTypeOf('x.png')).toBe('image/png')
    expect(mimeTypeOf('x.jpg')).toBe('image/jpeg')
    expect(mimeTypeOf('x.docx')).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    )
    expect(mimeTypeOf('x.xlsx')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    expect(mimeTypeOf('x.zip')).toBe('application/zip')
    expect(mimeTypeOf('x.tar.gz')).toBe('application/octet-stream')
    expect(mimeTypeOf('README')).toBe('application/octet-stream')
  })
})
