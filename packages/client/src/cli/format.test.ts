import { describe, expect, it } from 'vitest'
import type { MessageStatus } from '../index.js'
import { capabilitiesTable, formatBytes, statusLine, statusTable, table } from './format.js'

const status = (id: number, s: string, description?: string): MessageStatus => ({
  id,
  lastUpdate: `2026-03-10T10:00:0${id}+01:00`,
  status: s,
  ...(description !== undefined && { description }),
  conversationId: 'c-1',
  messageId: 'm-1',
  convId: 7,
})

describe('human output', () => {
  it('aligns table columns and leaves no trailing spaces', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['wide cell', 'x'],
          ['y', ''],
        ],
      ),
    ).toBe(['A          LONGER', 'wide cell  x', 'y'].join('\n'))
  })

  it('writes sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(100 * 1024 * 1024)).toBe('100.0 MiB')
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB')
  })

  it('shows capabilities as service, process, document types and security level', () => {
    const text = capabilitiesTable(
      {
        capabilities: [
          {
            serviceIdentifier: 'DPO',
            process: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
            documentTypes: [{ type: 'arkivmelding', standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding' }],
          },
          {
            serviceIdentifier: 'DPE',
            documentTypes: [{ standard: 'urn:x::unknown' }, { type: 'status', standard: 's' }],
          },
        ],
      },
      4,
    )
    const lines = text.split('\n')
    expect(lines[0]).toMatch(/^SERVICE\s+PROCESS\s+DOCUMENT TYPES\s+SECURITY LEVEL$/)
    expect(lines[1]).toMatch(
      /^DPO\s+urn:no:difi:profile:arkivmelding:administrasjon:ver1\.0\s+arkivmelding\s+4$/,
    )
    expect(lines[2]).toMatch(/^DPE\s+-\s+urn:x::unknown, status\s+4$/)
    expect(capabilitiesTable({ capabilities: [] })).toMatch(/No capabilities/)
  })

  it('shows a status timeline and single status lines', () => {
    const text = statusTable([status(1, 'OPPRETTET'), status(2, 'SENDT', 'Sendt til broker')])
    expect(text.split('\n')).toEqual([
      'TIME                       STATUS     DESCRIPTION',
      '2026-03-10T10:00:01+01:00  OPPRETTET',
      '2026-03-10T10:00:02+01:00  SENDT      Sendt til broker',
    ])
    expect(statusLine(status(3, 'LEVERT'))).toBe('2026-03-10T10:00:03+01:00  LEVERT')
    expect(statusLine(status(4, 'FEIL', 'nei'), true)).toMatch(
      /^2026-03-10T10:00:04\+01:00 {2}m-1 {2}FEIL\s+nei$/,
    )
  })
})
