/**
 * A strict reader of Prometheus' text exposition format 0.0.4, as Prometheus parses a scrape: every
 * line is a comment (`# HELP`, `# TYPE`, other), blank, or a sample `name{label="value",...} value
 * [timestamp]`. It throws on the first line Prometheus would refuse, and on what Prometheus rejects in a
 * scrape as a whole: a TYPE after samples of its family, a family typed twice, a series given twice, a
 * histogram without its +Inf bucket, or with a bucket count that falls as `le` rises.
 */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Scrape {
  samples: Sample[]
  types: Map<string, string>
  /** the value of one series; undefined when it is not there */
  value(name: string, labels?: Record<string, string>): number | undefined
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES = ['_bucket', '_count', '_sum']

export function parsePrometheus(text: string): Scrape {
  const types = new Map<string, string>()
  const sampled = new Set<string>()
  const seen = new Set<string>()
  const samples: Sample[] = []
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`
    if (line.trim() === '') return
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line)
      if (!m) return // a plain comment
      if (!NAME.test(m[2]!)) throw new Error(`bad metric name in ${where}`)
      if (m[1] === 'TYPE') {
        if (!TYPES.has(m[3] ?? '')) throw new Error(`unknown type in ${where}`)
        if (types.has(m[2]!)) throw new Error(`second TYPE for ${m[2]} in ${where}`)
        if (sampled.has(m[2]!)) throw new Error(`TYPE after samples of ${m[2]} in ${where}`)
        types.set(m[2]!, m[3]!)
      }
      return
    }
    const sample = parseSample(line, where)
    const family = familyOf(sample.name, types)
    sampled.add(family)
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`
    if (seen.has(key)) throw new Error(`series given twice in ${where}`)
    seen.add(key)
    samples.push(sample)
  })
  checkHistograms(samples, types)
  return {
    samples,
    types,
    value(name, labels = {}) {
      const want = Object.entries(labels)
      return samples.find((s) => s.name === name && want.every(([k, v]) => s.labels[k] === v))?.value
    },
  }
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+-?\d+)?$/.exec(line)
  if (!m) throw new Error(`not a sample: ${where}`)
  const labels = m[2] ? parseLabels(m[2].slice(1, -1), where) : {}
  const value = parseFloatAsGo(m[3]!)
  if (value === undefined) throw new Error(`bad value in ${where}`)
  return { name: m[1]!, labels, value }
}

/** Prometheus reads values with Go's ParseFloat: NaN and Inf in any case, Infinity, a sign. */
function parseFloatAsGo(raw: string): number | undefined {
  if (/^nan$/i.test(raw)) return Number.NaN
  const inf = /^([+-]?)inf(inity)?$/i.exec(raw)
  if (inf) return inf[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return undefined
  return Number(raw)
}

function parseLabels(body: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let rest = body
  while (rest.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest)
    if (!m || !LABEL.test(m[1]!)) throw new Error(`bad label in ${where}`)
    if (m[1]! in labels) throw new Error(`label ${m[1]} twice in ${where}`)
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    rest = rest.slice(m[0].length)
    if (!m[3] && rest.length) throw new Error(`labels not separated by commas in ${where}`)
  }
  return labels
}

function familyOf(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name
  for (const suffix of SUFFIXES) {
    const base = name.slice(0, -suffix.length)
    if (name.endsWith(suffix) && ['histogram', 'summary'].includes(types.get(base) ?? '')) return base
  }
  return name
}

function checkHistograms(samples: Sample[], types: Map<string, string>): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue
    const series = new Map<string, { le: number; value: number }[]>()
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels
      if (le === undefined) throw new Error(`${family}_bucket without le`)
      const key = JSON.stringify(Object.entries(rest).sort())
      series.set(key, [
        ...(series.get(key) ?? []),
        { le: Number(le === '+Inf' ? Infinity : le), value: s.value },
      ])
    }
    for (const [key, buckets] of series) {
      buckets.sort((a, b) => a.le - b.le)
      if (buckets.at(-1)?.le !== Infinity) throw new Error(`${family}${key} has no +Inf bucket`)
      buckets.forEach((b, i) => {
        if (i > 0 && b.value < buckets[i - 1]!.value)
          throw new Error(`${family}${key} buckets fall at le=${b.le}`)
      })
    }
  }
}
