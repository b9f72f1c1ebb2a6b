// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring ${placeholder} syntax is the subject here
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createResolver, PlaceholderError } from './placeholders.js'

function resolver(values: Record<string, string>) {
  return createResolver((name) => (name in values ? { id: name, value: values[name]! } : undefined))
}

const text = (values: Record<string, string>, t: string) => resolver(values).resolveText(t)

describe('placeholders', () => {
  it('replaces ${key} with the value of key', () => {
    expect(text({ a: 'x' }, 'pre-${a}-post')).toBe('pre-x-post')
    expect(text({ a: 'x', b: 'y' }, '${a}${b}')).toBe('xy')
  })

  it('uses the default after the first colon when the key is undefined', () => {
    expect(text({}, '${a:fallback}')).toBe('fallback')
    expect(text({}, '${a:}')).toBe('')
    expect(text({}, '${a:http://localhost:9099}')).toBe('http://localhost:9099')
    expect(text({ a: 'set' }, '${a:fallback}')).toBe('set')
  })

  it('resolves placeholders inside defaults, and only when the default is used', () => {
    expect(text({ b: 'B' }, '${a:${b}}')).toBe('B')
    expect(text({}, '${a:${b:${c:deep}}}')).toBe('deep')
    expect(text({ a: 'A' }, '${a:${missing}}')).toBe('A')
  })

  it('resolves placeholders inside keys', () => {
    expect(text({ env: 'prod', 'url.prod': 'https://p' }, '${url.${env}}')).toBe('https://p')
  })

  it('resolves values that refer to other values', () => {
    const r = resolver({ a: '${b}/jwk', b: '${c}', c: 'https://sr' })
    expect(r.resolveName('a')).toBe('https://sr/jwk')
    expect(r.resolveName('nothing')).toBeUndefined()
  })

  it('keeps an escaped \\${ and a ${ that is never closed', () => {
    expect(text({ a: 'x' }, '\\${a} ${a}')).toBe('${a} x')
    expect(text({ a: 'x' }, 'abc${a')).toBe('abc${a')
    expect(text({}, 'pass#{null}$')).toBe('pass#{null}$')
  })

  it('takes \\: in a key as a colon, not as the start of a default', () => {
    expect(text({ 'a:b': 'x' }, '${a\\:b}')).toBe('x')
  })

  it('refuses an unresolvable placeholder without default, naming it', () => {
    expect(() => text({}, 'x${missing}')).toThrow(PlaceholderError)
    expect(() => text({}, 'x${missing}')).toThrow(
      'could not resolve placeholder ${missing}: set missing, or give a default with ${missing:default}',
    )
    expect(() => resolver({ a: '${b}' }).resolveName('a')).toThrow('${b}')
  })

  it('refuses a cycle, naming the chain', () => {
    const r = resolver({ a: '${b}', b: '${c}', c: '${a}' })
    expect(() => r.resolveName('a')).toThrow('circular placeholder reference a -> b -> c -> a')
    expect(() => resolver({ a: 'x${a}' }).resolveName('a')).toThrow('circular placeholder reference a -> a')
    // a cycle that a default would break is still a cycle
    expect(() => resolver({ a: '${b:1}', b: '${a:2}' }).resolveName('a')).toThrow('circular')
  })

  it('applies finish (trimming) to every resolved value', () => {
    const r = createResolver(
      (name) => ({ a: { id: 'a', value: ' x ' } })[name],
      (v) => v.trim(),
    )
    expect(r.resolveText('[${a}]')).toBe('[x]')
  })

  it('leaves text without placeholders alone', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        fc.pre(!s.includes('${'))
        expect(text({}, s)).toBe(s)
      }),
    )
  })

  it('substitutes any value literally, even one that looks like a placeholder once resolved', () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        fc.pre(!v.includes('${'))
        expect(text({ k: v }, '<${k}>')).toBe(`<${v}>`)
      }),
    )
  })
})
