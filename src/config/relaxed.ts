/**
 * Spring Boot's relaxed binding, as far as configuration files and environment variables need it.
 *
 * Keys compare in a canonical form: elements split on `.`, each lower-cased with everything but letters and
 * digits removed (`lock-timeout-minutes`, `lockTimeoutMinutes` and `lock_timeout_minutes` are one key), and
 * list indices written `[n]` (`her-ids.0` is `her-ids[0]`). Bracketed elements keep their text.
 *
 * Environment variables bind as Spring Boot's SystemEnvironmentPropertyMapper does: `_` separates elements,
 * an all-digit element is a list index (`DIFI_MOVE_DPH_HERIDS_0` is `difi.move.dph.herids[0]`), case does
 * not matter. Its "legacy" form, dashes written as underscores, also binds a property we know by name
 * (`DIFI_SSL_KEY_STORE` for `difi.ssl.key-store`, `DIFI_MOVE_NEXTMOVE_LOCK_TIMEOUT_MINUTES` for
 * `lockTimeoutMinutes`, whose dashed form is `lock-timeout-minutes`). A variable whose name contains a dot
 * is taken as a property name as written (Docker's `environment:` allows it).
 */

interface Element {
  text: string
  indexed: boolean
}

/** Splits a property name into elements: `a.b[0].c` is a, b, [0], c. */
function elements(name: string): Element[] {
  const out: Element[] = []
  let current = ''
  const flush = (): void => {
    if (current) out.push({ text: current, indexed: false })
    current = ''
  }
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!
    if (c === '.') {
      flush()
    } else if (c === '[') {
      flush()
      const close = name.indexOf(']', i + 1)
      const end = close < 0 ? name.length : close
      out.push({ text: name.slice(i + 1, end), indexed: true })
      i = end
    } else {
      current += c
    }
  }
  flush()
  return out
}

function join(parts: Element[]): string {
  let out = ''
  for (const { text, indexed } of parts) {
    if (indexed) out += `[${text}]`
    else out += out ? `.${text}` : text
  }
  return out
}

const isDigits = (s: string): boolean => /^[0-9]+$/.test(s)

function uniform(el: Element): Element | null {
  if (el.indexed) return el
  const text = el.text.toLowerCase().replace(/[^a-z0-9]/g, '')
  if (!text) return null
  return isDigits(text) ? { text, indexed: true } : { text, indexed: false }
}

/** The canonical form every key is compared in: `difi.move.nextmove.lock-timeout-minutes` -> `difi.move.nextmove.locktimeoutminutes`. */
export function canonicalKey(name: string): string {
  return join(elements(name).flatMap((el) => uniform(el) ?? []))
}

/** Spring's dashed form of a property name: `lockTimeoutMinutes` -> `lock-timeout-minutes`. */
export function dashedForm(name: string): string {
  const parts = elements(name).map((el) => {
    if (el.indexed) return el
    let text = ''
    for (const ch of el.text.replaceAll('_', '-')) {
      if (ch !== ch.toLowerCase() && text && !text.endsWith('-')) text += '-'
      text += ch.toLowerCase()
    }
    return { text, indexed: false }
  })
  return join(parts)
}

/** The environment variable names Spring accepts for a known property: standard and legacy (dashes as `_`). */
export function envNamesFor(name: string): string[] {
  const standard = join(elements(canonicalKey(name)).map((el) => ({ ...el, indexed: false }))).replaceAll(
    '.',
    '_',
  )
  const legacy = elements(dashedForm(name))
    .map((el) => (el.indexed ? el.text : el.text.replaceAll('-', '_')))
    .join('_')
  return [...new Set([standard.toUpperCase(), legacy.toUpperCase()])]
}

/** The canonical property key an environment variable binds to by Spring's standard mapping. */
export function envVarToKey(name: string): string {
  if (name.includes('.')) return canonicalKey(name)
  const parts = name
    .split('_')
    .filter((p) => p.length > 0)
    .map((p) => ({ text: p.toLowerCase(), indexed: isDigits(p) }))
  return canonicalKey(join(parts))
}

/**
 * Looks an environment variable up for a `${name}` placeholder as Spring's SystemEnvironmentPropertySource
 * does: the name as written, then with `.` and/or `-` as `_`, each also upper-cased.
 */
export function lookupEnvVar(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): { name: string; value: string } | undefined {
  const variants = [name, name.replaceAll('.', '_'), name.replaceAll('-', '_'), name.replace(/[.-]/g, '_')]
  for (const candidate of [...variants, ...variants.map((v) => v.toUpperCase())]) {
    const value = env[candidate]
    if (value !== undefined) return { name: candidate, value }
  }
  return undefined
}
