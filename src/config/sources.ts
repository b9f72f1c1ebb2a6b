import { ConfigError, type ConfigIssue } from './errors.js'
import { createResolver, PlaceholderError, type RawValue } from './placeholders.js'
import { canonicalKey, envNamesFor, envVarToKey, lookupEnvVar } from './relaxed.js'

/** Where a property's value came from, highest precedence first. */
export type Origin = 'override' | 'env' | 'file' | 'profile' | 'default'

/** One source of properties, keyed by canonical key. */
export interface Layer {
  origin: Origin
  /** for messages: the file path, the profile name, ... */
  label: string
  values: ReadonlyMap<string, { key: string; value: string }>
}

export type Env = Readonly<Record<string, string | undefined>>

export function layer(origin: Origin, label: string, entries: Iterable<readonly [string, string]>): Layer {
  const values = new Map<string, { key: string; value: string }>()
  for (const [key, value] of entries) values.set(canonicalKey(key), { key, value })
  return { origin, label, values }
}

/** Environment variables that become properties start with one of these (others serve placeholders only). */
const ENV_PREFIXES = new Set(['difi', 'server', 'spring', 'management', 'logging', 'vault'])

/**
 * The environment as a property layer. `knownKeys` are property names we read: their legacy environment
 * spelling (`DIFI_SSL_KEY_STORE`) binds to them; every other variable binds by the standard mapping.
 * When several variables bind one key, a dotted name beats the standard spelling, which beats the legacy one.
 */
export function envLayer(env: Env, knownKeys: Iterable<string>): Layer {
  const legacy = legacyNames(knownKeys)
  const bound = Object.keys(env)
    .filter((name) => env[name] !== undefined)
    .map((name) => {
      if (name.includes('.')) return { name, canonical: canonicalKey(name), rank: 2 }
      const standard = envVarToKey(name)
      const known = legacyBinding(name, legacy)
      return { name, canonical: known ?? standard, rank: known === undefined || known === standard ? 1 : 0 }
    })
    .filter(({ canonical }) => ENV_PREFIXES.has(canonical.split(/[.[]/)[0] ?? ''))
    .sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : 1))
  const values = new Map<string, { key: string; value: string }>()
  for (const { name, canonical } of bound) values.set(canonical, { key: name, value: env[name]! })
  return { origin: 'env', label: 'the environment', values }
}

/**
 * Each environment variable name a known key's legacy spelling gives, to the key's canonical form; when two keys
 * give one name, the later key has it. Every key is spelt once, the last of its repeats first (the list
 * repeats about half its keys, and spelling them is a good part of reading the configuration at start).
 */
function legacyNames(knownKeys: Iterable<string>): Map<string, string> {
  const legacy = new Map<string, string>()
  const seen = new Set<string>()
  for (const key of [...knownKeys].reverse()) {
    if (seen.has(key)) continue
    seen.add(key)
    const canonical = canonicalKey(key)
    for (const name of envNamesFor(key)) if (!legacy.has(name)) legacy.set(name, canonical)
  }
  return legacy
}

/** A known property by its legacy name, list indices included: `DIFI_MOVE_DPH_HER_IDS_0` is `her-ids[0]`. */
function legacyBinding(name: string, legacy: ReadonlyMap<string, string>): string | undefined {
  const [, base = '', indices = ''] = /^(.*?)((?:_\d+)*)$/.exec(name.toUpperCase()) ?? []
  const key = legacy.get(base)
  if (key === undefined) return legacy.get(name.toUpperCase())
  return (
    key +
    indices
      .split('_')
      .filter(Boolean)
      .map((i) => `[${i}]`)
      .join('')
  )
}

/** Every property of the layers, placeholders resolved and surrounding whitespace trimmed. */
export class ResolvedProperties {
  constructor(
    private readonly layers: readonly Layer[],
    private readonly values: ReadonlyMap<string, string>,
  ) {}

  /** the value of a property in any spelling (`lockTimeoutMinutes` or `lock-timeout-minutes`) */
  get(key: string): string | undefined {
    return this.values.get(canonicalKey(key))
  }

  /** which layer a property's value came from; undefined when no layer defines it */
  origin(key: string): Origin | undefined {
    return this.source(key)?.origin
  }

  /** the layer a property's value came from and the value as written there (placeholders unresolved) */
  source(key: string): { origin: Origin; raw: string } | undefined {
    const canonical = canonicalKey(key)
    const owner = this.layers.find((l) => l.values.has(canonical))
    return owner && { origin: owner.origin, raw: owner.values.get(canonical)!.value }
  }

  /**
   * A list property as Spring binds it: `key=a,b` or `key[0]=a`, `key[1]=b`, all taken from the highest
   * layer that has the key in either form (lists do not merge across sources). Empty items are dropped.
   */
  list(key: string): string[] | undefined {
    const canonical = canonicalKey(key)
    const isItem = (k: string): boolean =>
      k.startsWith(`${canonical}[`) && /^\[\d+\]$/.test(k.slice(canonical.length))
    const source = this.layers.find((l) => l.values.has(canonical) || [...l.values.keys()].some(isItem))
    if (!source) return undefined
    if (source.values.has(canonical)) {
      return (this.values.get(canonical) ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    }
    const index = (k: string): number => Number(k.slice(canonical.length + 1, -1))
    return [...source.values.keys()]
      .filter(isItem)
      .sort((a, b) => index(a) - index(b))
      .map((k) => this.values.get(k) ?? '')
      .filter(Boolean)
  }

  /**
   * A list of objects as Spring binds it: `key[0].a=…`, `key[0].b=…`, `key[1].a=…`, in index order;
   * each item has the members named in `members` that are set (and no others).
   */
  objects(key: string, members: readonly string[]): Record<string, string>[] | undefined {
    const canonical = canonicalKey(key)
    const indices = new Set<number>()
    for (const k of this.values.keys()) {
      const m = /^\[(\d+)\]\./.exec(k.slice(canonical.length))
      if (k.startsWith(canonical) && m) indices.add(Number(m[1]))
    }
    if (indices.size === 0) return undefined
    return [...indices]
      .sort((a, b) => a - b)
      .map((i) =>
        Object.fromEntries(
          members
            .map((name) => [name, this.values.get(canonicalKey(`${key}[${i}].${name}`))] as const)
            .filter((e): e is readonly [string, string] => e[1] !== undefined),
        ),
      )
  }

  /** canonical key -> resolved value, for every property */
  all(): ReadonlyMap<string, string> {
    return this.values
  }
}

/**
 * Resolves every property of `layers` (highest precedence first). A placeholder may name any property or
 * environment variable. An unresolvable or circular placeholder in a value the operator gave is an error
 * naming the property; one in a built-in default only leaves that default out (the reference's defaults
 * refer to optional keys, e.g. `difi.move.oidc.keystore.path=${difi.move.org.keystore.path}`).
 */
export function resolveLayers(layers: readonly Layer[], env: Env): ResolvedProperties {
  const resolver = createResolver(rawLookup(layers, env), finish)
  const values = new Map<string, string>()
  const issues: ConfigIssue[] = []
  for (const canonical of unionKeys(layers)) {
    const owner = layers.find((l) => l.values.has(canonical))!
    const { key } = owner.values.get(canonical)!
    try {
      const value = resolver.resolveName(canonical)
      if (value !== undefined) values.set(canonical, value)
    } catch (err) {
      if (!(err instanceof PlaceholderError)) throw err
      if (owner.origin === 'default' || owner.origin === 'profile') continue
      issues.push({ key, message: `${key} (from ${owner.label}): ${err.message}` })
    }
  }
  if (issues.length > 0) throw new ConfigError(issues)
  return new ResolvedProperties(layers, values)
}

/** Resolves a single property over `layers` (used to find the active profiles before the profile layers exist). */
export function resolveOne(layers: readonly Layer[], env: Env, key: string): string | undefined {
  const canonical = canonicalKey(key)
  const owner = layers.find((l) => l.values.has(canonical))
  try {
    return createResolver(rawLookup(layers, env), finish).resolveName(canonical)
  } catch (err) {
    if (!(err instanceof PlaceholderError) || !owner) throw err
    const written = owner.values.get(canonical)!.key
    throw new ConfigError({ key: written, message: `${written} (from ${owner.label}): ${err.message}` })
  }
}

const SR_ENDPOINT = canonicalKey('difi.move.serviceregistryEndpoint')

/**
 * Every value is trimmed (trailing blanks in properties files are a classic cause of failures with the
 * reference). The ServiceRegistry endpoint also loses its trailing slash before anything refers to it, so
 * `${difi.move.serviceregistryEndpoint}/jwk` never has two.
 */
function finish(value: string, id: string): string {
  const trimmed = value.trim()
  return id === SR_ENDPOINT ? trimmed.replace(/\/+$/, '') : trimmed
}

function unionKeys(layers: readonly Layer[]): string[] {
  const keys = new Set<string>()
  for (const l of layers) for (const k of l.values.keys()) keys.add(k)
  return [...keys].sort()
}

function rawLookup(layers: readonly Layer[], env: Env): (name: string) => RawValue | undefined {
  return (name) => {
    const canonical = canonicalKey(name)
    for (const l of layers) {
      const found = l.values.get(canonical)
      if (found) return { id: canonical, value: found.value }
    }
    const variable = lookupEnvVar(env, name)
    return variable && { id: `env:${variable.name}`, value: variable.value }
  }
}
