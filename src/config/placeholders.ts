/**
 * Spring's `${key}` / `${key:default}` placeholders (Spring Framework 6.2 `PlaceholderParser` semantics):
 *
 * - the key may itself contain placeholders (`${a${b}}`), and so may the default (`${a:${b:c}}`);
 * - the default follows the first `:` outside nested braces; `${a:}` defaults to the empty string;
 * - a resolved value is resolved again, so a property may refer to one that refers to another;
 * - `\${` stands for a literal `${`, and `\:` for a literal `:` inside a key;
 * - a `${` without its closing `}` is left as it is;
 * - unlike Spring's lenient binder, a placeholder that resolves to nothing and has no default is an error,
 *   and so is a cycle; both name the chain of keys involved.
 */

export class PlaceholderError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PlaceholderError'
  }
}

/** What a referenced name stands for: `id` identifies it for cycle detection, `value` is still unresolved. */
export interface RawValue {
  id: string
  value: string
}

export interface PlaceholderResolver {
  /** the resolved value of the property or variable `name`, or undefined when nothing defines it */
  resolveName(name: string): string | undefined
  /** `text` with every placeholder in it resolved */
  resolveText(text: string): string
}

const ESCAPE = '\\'

/**
 * Builds a resolver over `lookup` (which finds a name's raw value). `finish` turns the resolved value of
 * `id` into the one that is cached and substituted (we trim surrounding whitespace there).
 */
export function createResolver(
  lookup: (name: string) => RawValue | undefined,
  finish: (value: string, id: string) => string = (v) => v,
): PlaceholderResolver {
  const cache = new Map<string, string>()
  const active: { id: string; name: string }[] = []

  function resolveName(name: string): string | undefined {
    const raw = lookup(name)
    if (!raw) return undefined
    const cached = cache.get(raw.id)
    if (cached !== undefined) return cached
    const loopStart = active.findIndex((a) => a.id === raw.id)
    if (loopStart >= 0) {
      const chain = [...active.slice(loopStart).map((a) => a.name), name]
      throw new PlaceholderError(`circular placeholder reference ${chain.join(' -> ')}`)
    }
    active.push({ id: raw.id, name })
    try {
      const value = finish(resolveText(raw.value), raw.id)
      cache.set(raw.id, value)
      return value
    } finally {
      active.pop()
    }
  }

  function resolvePlaceholder(content: string): string {
    const sep = findSeparator(content)
    const keyPart = sep < 0 ? content : content.slice(0, sep)
    const key = resolveText(keyPart.replaceAll(`${ESCAPE}:`, ':'))
    const value = resolveName(key)
    if (value !== undefined) return value
    if (sep >= 0) return resolveText(content.slice(sep + 1))
    throw new PlaceholderError(
      `could not resolve placeholder \${${key}}: set ${key}, or give a default with \${${key}:default}`,
    )
  }

  function resolveText(text: string): string {
    let out = ''
    let i = 0
    while (i < text.length) {
      if (text.startsWith(`${ESCAPE}\${`, i)) {
        out += '${'
        i += 3
        continue
      }
      if (!text.startsWith('${', i)) {
        out += text[i]
        i++
        continue
      }
      const end = findEnd(text, i + 2)
      if (end < 0) return out + text.slice(i)
      out += resolvePlaceholder(text.slice(i + 2, end))
      i = end + 1
    }
    return out
  }

  return { resolveName, resolveText }
}

/** Index of the `}` closing a placeholder whose content starts at `from`, counting nested braces. */
function findEnd(text: string, from: number): number {
  let depth = 0
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (c === '{') depth++
    else if (c === '}') {
      if (depth === 0) return i
      depth--
    }
  }
  return -1
}

/** Index of the first unescaped `:` outside nested placeholders, or -1. */
function findSeparator(content: string): number {
  let depth = 0
  for (let i = 0; i < content.length; i++) {
    const c = content[i]
    if (c === '{') depth++
    else if (c === '}') depth--
    else if (c === ':' && depth === 0 && content[i - 1] !== ESCAPE) return i
  }
  return -1
}
