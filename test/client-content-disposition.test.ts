import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { contentDisposition } from '../packages/client/src/index.js'
import { parseContentDisposition } from '../src/files/content-disposition.js'

/** What the client writes, the server's own parser (the one its upload and multipart use) reads back. */
describe('the client Content-Disposition read by the server', () => {
  const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })

  it('gives back every upload title and filename exactly', () => {
    fc.assert(
      fc.property(text, text, (name, filename) => {
        const parsed = parseContentDisposition(contentDisposition('attachment', { name, filename }))
        expect(parsed).toEqual({ type: 'attachment', params: { name, filename } })
      }),
      { numRuns: 500 },
    )
  })

  it('gives back every multipart part name and filename, control characters as spaces', () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
    const noControls = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, ' ')
    fc.assert(
      fc.property(text, text, (name, filename) => {
        const parsed = parseContentDisposition(contentDisposition('form-data', { name, filename }))
        expect(parsed.params).toEqual({ name: noControls(name), filename: noControls(filename) })
      }),
      { numRuns: 500 },
    )
  })

  it('keeps the reference example as it is', () => {
    expect(contentDisposition('attachment', { name: 'Before The Law', filename: 'before_the_law.txt' })).toBe(
      'attachment; name="Before The Law"; filename="before_the_law.txt"',
    )
  })
})
