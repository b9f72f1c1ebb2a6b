import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { BASE_DEFAULTS, KEYS_WITHOUT_DEFAULT, PROFILE_DEFAULTS } from './defaults.js'
import { ConfigError, type ConfigIssue } from './errors.js'
import { PropertiesSyntaxError, parsePropertyEntries } from './properties.js'
import { parseSection, SECTION_KEYS, SECTIONS, type SectionContext } from './schema.js'
import { type Env, envLayer, type Layer, layer, resolveLayers, resolveOne } from './sources.js'
import type { Config } from './types.js'

export { ConfigError, type ConfigIssue } from './errors.js'

/** The file read from the working directory when no `--config` is given (as the reference). */
export const DEFAULT_CONFIG_FILE = 'integrasjonspunkt-local.properties'

export interface LoadConfigOptions {
  /** the working directory: where the default file is looked for and relative paths are resolved */
  cwd: string
  /** the environment (only `loadConfig` sees it; nothing else in the project reads process.env) */
  env: Env
  /** `--config FILE`: read this instead of the default file; it must exist */
  configFile?: string
  /** properties above everything else (the sandbox and tests use them) */
  overrides?: Record<string, string>
}

/**
 * Reads the configuration once: built-in defaults (the reference's), the active profiles' defaults, the
 * properties file, the environment and `overrides`, each above the one before; resolves placeholders;
 * validates every section; returns it deeply frozen. Throws ConfigError naming each wrong property.
 */
export function loadConfig(opts: LoadConfigOptions): Config {
  const knownKeys = [
    ...Object.keys(BASE_DEFAULTS),
    ...Object.values(PROFILE_DEFAULTS).flatMap((p) => Object.keys(p)),
    ...KEYS_WITHOUT_DEFAULT,
    ...SECTION_KEYS,
  ]
  const file = readConfigFile(opts)
  const top: Layer[] = [
    layer('override', 'the overrides', Object.entries(opts.overrides ?? {})),
    envLayer(opts.env, knownKeys),
    ...(file ? [file] : []),
  ]
  const profiles = activeProfiles(top, opts.env)
  const layers = [
    ...top,
    // the last profile named wins, as in Spring
    ...[...profiles].reverse().map((p) => layer('profile', `profile ${p}`, Object.entries(PROFILE_DEFAULTS[p] ?? {}))),
    layer('default', 'the built-in defaults', Object.entries(BASE_DEFAULTS)),
  ]
  const props = resolveLayers(layers, opts.env)
  const ctx: SectionContext = {
    cwd: opts.cwd,
    isDefault: (key) => {
      const origin = props.origin(key)
      return origin === undefined || origin === 'default'
    },
  }
  const issues: ConfigIssue[] = []
  const s = SECTIONS
  const sections = {
    server: parseSection(s.server, props, ctx, issues),
    org: parseSection(s.org, props, ctx, issues),
    serviceRegistry: parseSection(s.serviceRegistry, props, ctx, issues),
    security: parseSection(s.security, props, ctx, issues),
    ssl: parseSection(s.ssl, props, ctx, issues),
    datasource: parseSection(s.datasource, props, ctx, issues),
    nextmove: parseSection(s.nextmove, props, ctx, issues),
    ttlHours: parseSection(s.ttlHours, props, ctx, issues),
    uploadSizeLimit: parseSection(s.uploadSizeLimit, props, ctx, issues),
    features: parseSection(s.features, props, ctx, issues),
    arkivmelding: parseSection(s.arkivmelding, props, ctx, issues),
    einnsyn: parseSection(s.einnsyn, props, ctx, issues),
    avtalt: parseSection(s.avtalt, props, ctx, issues),
    dpo: parseSection(s.dpo, props, ctx, issues),
    dph: parseSection(s.dph, props, ctx, issues),
  }
  if (issues.length > 0) throw new ConfigError(sortIssues(issues))
  const config = { ...sections, properties: new FrozenMap(props.all()) } as Config
  return deepFreeze(config)
}

/** The organisation number first (nothing works without it), then in section order. */
function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => Number(b.key === 'difi.move.org.number') - Number(a.key === 'difi.move.org.number'))
}

/**
 * `spring.profiles.active` (comma-separated) from the overrides, environment or file. The reference only
 * takes it from the environment or the JVM; taking it from the file as well harms no one.
 */
function activeProfiles(layers: Layer[], env: Env): string[] {
  const value = resolveOne(layers, env, 'spring.profiles.active') ?? ''
  return value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
}

const YAML_FILES = ['integrasjonspunkt-local.yml', 'integrasjonspunkt-local.yaml']

function readConfigFile(opts: LoadConfigOptions): Layer | null {
  if (opts.configFile !== undefined) {
    const path = resolve(opts.cwd, opts.configFile)
    if (!existsSync(path)) {
      throw new ConfigError({ key: '--config', message: `--config ${opts.configFile}: the file ${path} does not exist` })
    }
    return fileLayer(path)
  }
  // the reference v4 also imports a YAML variant; we do not read YAML, and ignoring it silently would hurt
  const yaml = YAML_FILES.find((name) => existsSync(join(opts.cwd, name)))
  if (yaml) {
    throw new ConfigError({
      key: yaml,
      message: `${join(opts.cwd, yaml)} is not read (YAML configuration is not supported): move its settings to ${DEFAULT_CONFIG_FILE} and remove it`,
    })
  }
  const path = join(opts.cwd, DEFAULT_CONFIG_FILE)
  return existsSync(path) ? fileLayer(path) : null
}

function fileLayer(path: string): Layer {
  let text: string
  try {
    text = decode(readFileSync(path))
  } catch (cause) {
    throw new ConfigError({ key: path, message: `${path} could not be read: ${(cause as Error).message}` }, { cause })
  }
  try {
    return layer(
      'file',
      path,
      parsePropertyEntries(text).map((e) => [e.key, e.value] as const),
    )
  } catch (cause) {
    if (!(cause instanceof PropertiesSyntaxError)) throw cause
    throw new ConfigError({ key: path, message: `${path} ${cause.message}` }, { cause })
  }
}

/**
 * UTF-8 when the bytes are valid UTF-8 (what editors write today), else ISO-8859-1 (what Java's
 * Properties.load(InputStream) assumes), so both old and new files read as their authors meant.
 */
function decode(bytes: Buffer): string {
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    return body.toString('latin1')
  }
}

/** A map that cannot be changed: `Object.freeze` does not stop `Map.prototype.set`, so the map is hidden. */
export class FrozenMap<K, V> implements ReadonlyMap<K, V> {
  readonly #map: Map<K, V>
  constructor(entries: Iterable<readonly [K, V]>) {
    this.#map = new Map(entries)
    Object.freeze(this)
  }
  get size(): number {
    return this.#map.size
  }
  get(key: K): V | undefined {
    return this.#map.get(key)
  }
  has(key: K): boolean {
    return this.#map.has(key)
  }
  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.#map) fn.call(thisArg, v, k, this)
  }
  entries(): MapIterator<[K, V]> {
    return this.#map.entries()
  }
  keys(): MapIterator<K> {
    return this.#map.keys()
  }
  values(): MapIterator<V> {
    return this.#map.values()
  }
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.#map[Symbol.iterator]()
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
