import { type Html, html } from './html.js'
import type { Series } from './overview-data.js'

/**
 * Stacked bar charts as inline SVG, drawn on the server: no chart library and no script, readable by a
 * screen reader (title, description, a title on every bar) and with the numbers as a table beside it.
 */

const ORDER = ['DPO', 'DPV', 'DPI', 'DPF', 'DPE', 'DPH', 'UNKNOWN']
const COLOURS: Record<string, string> = {
  DPO: '#0b5cad',
  DPV: '#6f42c1',
  DPI: '#1e8a5a',
  DPF: '#c26a00',
  DPE: '#b3261e',
  DPH: '#00838f',
  UNKNOWN: '#6b7280',
}

const W = 600
const H = 200
const LEFT = 40
const BOTTOM = 24
const TOP = 8

export interface ChartOptions {
  id: string
  title: string
  series: Series
  /** the label of a bucket (`14`, `Mon 10`) */
  label: (start: number) => string
  /** the title of a bucket, for its bars (`10:00–11:00`) */
  span: (start: number) => string
  /** label every n-th bucket on the axis */
  labelEvery: number
}

function services(series: Series): string[] {
  const known = ORDER.filter((s) => series.byService.has(s))
  const other = [...series.byService.keys()].filter((s) => !ORDER.includes(s)).sort()
  return [...known, ...other]
}

/** A round upper bound for the axis: 1, 2, 5 × 10^n. */
function niceMax(value: number): number {
  if (value <= 1) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power
  return 10 * power
}

/** Where things go: a bucket's slot, its bar's width, and the y of a count. */
interface Geometry {
  slot: number
  barW: number
  y: (v: number) => number
}

function geometry(buckets: number, max: number): Geometry {
  const plotH = H - TOP - BOTTOM
  const slot = (W - LEFT - 4) / buckets
  return { slot, barW: Math.max(2, slot * 0.72), y: (v) => TOP + plotH - (v / max) * plotH }
}

export function barChart(options: ChartOptions): Html {
  // each bucket's title once: every bar segment and table row reuses it
  const spans = options.series.starts.map(options.span)
  const o = { ...options, span: (start: number) => spans[options.series.starts.indexOf(start)]! }
  const names = services(o.series)
  const totals = o.series.starts.map((_, i) =>
    names.reduce((sum, s) => sum + (o.series.byService.get(s)?.[i] ?? 0), 0),
  )
  const total = totals.reduce((a, b) => a + b, 0)
  const max = niceMax(Math.max(0, ...totals))
  const g = geometry(o.series.starts.length, max)
  const summary = names.length
    ? `${total} in all: ${names.map((s) => `${s} ${sum(o.series.byService.get(s))}`).join(', ')}`
    : 'None in this period.'
  return html`<figure class="chart" id="${o.id}">
<figcaption id="${o.id}-caption">${o.title}</figcaption>
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${o.id}-title ${o.id}-desc" font-size="13" fill="#5f6b76">
<title id="${o.id}-title">${o.title}</title>
<desc id="${o.id}-desc">${summary}</desc>
${grid(g, max)}${bars(o, names, g)}${labels(o, g)}
</svg>
${legend(names)}
${dataTable(o, names)}
</figure>`
}

/** One bar per bucket, a segment per service stacked from the bottom, each with its count as title. */
function bars(o: ChartOptions, names: string[], g: Geometry): Html[] {
  return o.series.starts.map((start, i) => {
    let base = 0
    const x = (LEFT + i * g.slot + (g.slot - g.barW) / 2).toFixed(1)
    const segments = names.map((s) => {
      const n = o.series.byService.get(s)?.[i] ?? 0
      if (n === 0) return ''
      const top = g.y(base + n)
      const height = g.y(base) - top
      base += n
      return html`<rect class="bar" data-service="${s}" data-count="${n}" x="${x}" y="${top.toFixed(1)}" width="${g.barW.toFixed(1)}" height="${height.toFixed(1)}" fill="${COLOURS[s] ?? '#888'}"><title>${o.span(start)} · ${s}: ${n}</title></rect>`
    })
    return html`${segments}`
  })
}

function labels(o: ChartOptions, g: Geometry): Html[] {
  const last = o.series.starts.length - 1
  return o.series.starts.map((start, i) =>
    i % o.labelEvery === 0 || i === last
      ? html`<text x="${(LEFT + i * g.slot + g.slot / 2).toFixed(1)}" y="${H - 6}" text-anchor="middle">${o.label(start)}</text>`
      : html``,
  )
}

/** Lines at 0, the top and, when it is a whole number of messages, half-way. */
function grid(g: Geometry, max: number): Html[] {
  const ticks = max % 2 === 0 ? [0, max / 2, max] : [0, max]
  return ticks.map(
    (v) =>
      html`<line x1="${LEFT}" x2="${W - 4}" y1="${g.y(v).toFixed(1)}" y2="${g.y(v).toFixed(1)}" stroke="#d8dee4"/><text x="${LEFT - 4}" y="${(g.y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`,
  )
}

function sum(values: number[] | undefined): number {
  return (values ?? []).reduce((a, b) => a + b, 0)
}

function legend(names: string[]): Html {
  if (!names.length) return html`<p class="muted">None in this period.</p>`
  return html`<div class="legend">${names.map(
    (s) =>
      html`<span><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${COLOURS[s] ?? '#888'}"/></svg> ${s}</span>`,
  )}</div>`
}

function dataTable(o: ChartOptions, names: string[]): Html {
  if (!names.length) return html``
  return html`<details><summary>The numbers</summary><div class="table-wrap"><table>
<thead><tr><th scope="col">Period</th>${names.map((s) => html`<th scope="col" class="num">${s}</th>`)}</tr></thead>
<tbody>${o.series.starts.map(
    (start, i) =>
      html`<tr><th scope="row">${o.span(start)}</th>${names.map(
        (s) => html`<td class="num">${o.series.byService.get(s)?.[i] ?? 0}</td>`,
      )}</tr>`,
  )}</tbody></table></div></details>`
}
