import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { BASE_DEFAULTS, KEYS_WITHOUT_DEFAULT, PROFILE_DEFAULTS } from './defaults.js'
import { ConfigError, type ConfigIssue } from './errors.js'
import { PropertiesSyntaxError, parsePropertyEntries } from './properties.js'
import { canonicalKey } from './relaxed.js'
import { parseSections, SECTION_KEYS, type SectionContext, sectionsMakeConfig } from './schema.js'
import {
  type Env,
  envLayer,
  type Layer,
  layer,
  type ResolvedProperties,
  resolveLayers,
  resolveOne,
} from './sources.js'
import type { Config } from './types.js'

export { ConfigError, type ConfigIssue } from './errors.js'
export { canonicalKey } from './relaxed.js'

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
    ...[...profiles]
      .reverse()
      .map((p) => layer('profile', `profile ${p}`, Object.entries(PROFILE_DEFAULTS[p] ?? {}))),
    layer('default', 'the built-in defaults', Object.entries(BASE_DEFAULTS)),
  ]
  const props = resolveLayers(layers, opts.env)
  const ctx: SectionContext = {
    cwd: opts.cwd,
    isDefault: (key) => {
      const origin = props.origin(key)
      return origin === undefined || origin === 'default'
    },
    isExplicit: (key) => {
      const origin = props.origin(key)
      return origin !== undefined && origin !== 'default' && origin !== 'profile'
    },
  }
  const issues: ConfigIssue[] = []
  const sections = parseSections(props, ctx, issues)
  if (!sections) throw new ConfigError(withoutFollowOns(issues, props))
  const config: Config = { ...sectionsMakeConfig(sections), properties: new PropertyMap(props.all()) }
  return deepFreeze(config)
}

/**
 * A built-in default that refers to another property (`difi.move.sign.jwkUrl=${difi.move.serviceregistryEndpoint}/jwk`)
 * fails when that property does; only the property the operator wrote is reported. When the property
 * referred to was set but is not checked itself, the message says where the value came from.
 */
function withoutFollowOns(issues: ConfigIssue[], props: ResolvedProperties): ConfigIssue[] {
  const reported = new Set(issues.map((i) => canonicalKey(i.key)))
  return issues.flatMap((issue) => {
    const source = props.source(issue.key)
    if (!source || (source.origin !== 'default' && source.origin !== 'profile')) return [issue]
    const refs = [...source.raw.matchAll(/\$\{([^}:]+)/g)].map((m) => m[1]!)
    if (refs.some((r) => reported.has(canonicalKey(r)))) return []
    const set = refs.filter((r) => {
      const origin = props.origin(r)
      return origin !== undefined && origin !== 'default'
    })
    return [
      set.length > 0
        ? { ...issue, message: `${issue.message} (the value comes from ${set.join(', ')})` }
        : issue,
    ]
  })
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
      throw new ConfigError({
        key: '--config',
        message: `--config ${opts.configFile}: the file ${path} does not exist`,
      })
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
    throw new ConfigError(
      { key: path, message: `${path} could not be read: ${(cause as Error).message}` },
      { cause },
    )
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

/**
 * `Config.properties`: every resolved property by canonical key, read-only (`Object.freeze` does not stop
 * `Map.prototype.set`, so the map itself is hidden). `get` and `has` take any spelling of a key
 * (`difi.move.dpo.brokerserviceUrl` finds `difi.move.dpo.brokerserviceurl`).
 */
export class PropertyMap implements ReadonlyMap<string, string> {
  readonly #map: Map<string, string>
  constructor(entries: Iterable<readonly [string, string]>) {
    this.#map = new Map(entries)
    Object.freeze(this)
  }
  get size(): number {
    return this.#map.size
  }
  get(key: string): string | undefined {
    return this.#map.get(canonicalKey(key))
  }
  has(key: string): boolean {
    return this.#map.has(canonicalKey(key))
  }
  forEach(
    fn: (value: string, key: string, map: ReadonlyMap<string, string>) => void,
    thisArg?: unknown,
  ): void {
    for (const [k, v] of this.#map) fn.call(thisArg, v, k, this)
  }
  entries(): MapIterator<[string, string]> {
    return this.#map.entries()
  }
  keys(): MapIterator<string> {
    return this.#map.keys()
  }
  values(): MapIterator<string> {
    return this.#map.values()
  }
  [Symbol.iterator](): MapIterator<[string, string]> {
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
