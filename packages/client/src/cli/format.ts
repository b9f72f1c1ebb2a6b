/**
 * Human output: aligned tables, sizes and status lines. Hand-written: a padded column layout is a few
 * lines, and the published package keeps its dependencies few.
 */
import type { Capabilities, MessageStatus } from '../index.js'

/** Rows under a header, each column as wide as its widest cell, two spaces apart; no trailing spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1536 → "1.5 KiB"; whole bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`
}

export function capabilitiesTable(caps: Capabilities, securityLevel?: number): string {
  if (caps.capabilities.length === 0) return 'No capabilities: the receiver cannot be reached by any service.'
  const rows = caps.capabilities.map((c) => [
    c.serviceIdentifier,
    c.process ?? '-',
    c.documentTypes.map((d) => d.type ?? d.standard).join(', ') || '-',
    securityLevel === undefined ? 'any' : String(securityLevel),
  ])
  return table(['SERVICE', 'PROCESS', 'DOCUMENT TYPES', 'SECURITY LEVEL'], rows)
}

/** One status as a timeline row: time, status, description. */
export function statusRow(s: MessageStatus): string[] {
  return [s.lastUpdate, s.status, s.description ?? '']
}

export function statusTable(statuses: readonly MessageStatus[]): string {
  return table(['TIME', 'STATUS', 'DESCRIPTION'], statuses.map(statusRow))
}

/** A status as one line, for streams where a table cannot be aligned in advance. */
export function statusLine(s: MessageStatus, withMessage = false): string {
  const cells = [s.lastUpdate, ...(withMessage ? [s.messageId] : []), s.status.padEnd(19)]
  if (s.description) cells.push(s.description)
  return cells.join('  ').trimEnd()
}
