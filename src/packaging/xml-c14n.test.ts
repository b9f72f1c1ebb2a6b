import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTempDir } from './test-support.js'
import { canonicalize } from './xml-c14n.js'
import { elements, parseXml } from './xml-tree.js'

const xmllintAvailable = spawnSync('xmllint', ['--version']).status === 0

describe('canonicalize', () => {
  it('renders the in-scope namespaces and inherited xml:* attributes on the apex of a subtree', () => {
    const root = parseXml(
      '<r xmlns="urn:r" xmlns:b="urn:b" xmlns:a="urn:a" xml:lang="no"><s xmlns="urn:s" z="1" b:y="2" a="3"><t/><u xmlns="urn:s" xmlns:a="urn:a2">x</u></s></r>',
    )
    expect(canonicalize(elements(root)[0]!).toString()).toBe(
      '<s xmlns="urn:s" xmlns:a="urn:a" xmlns:b="urn:b" a="3" z="1" xml:lang="no" b:y="2"><t></t><u xmlns:a="urn:a2">x</u></s>',
    )
    expect(canonicalize(elements(root)[0]!, '1.1').toString()).toContain('xml:lang="no"')
  })

  it('escapes text and attributes as C14N does, and drops comments', () => {
    const root = parseXml(
      '<a b="&lt;&amp;&quot;&#9;&#10;&#13;\t>"><!-- c -->&lt;&gt;&amp;&#13;"\'<![CDATA[<&]]></a>',
    )
    expect(canonicalize(root).toString()).toBe(
      '<a b="&lt;&amp;&quot;&#x9;&#xA;&#xD; >">&lt;&gt;&amp;&#xD;"\'&lt;&amp;</a>',
    )
  })

  it('writes xmlns="" only where it undoes a default namespace', () => {
    const root = parseXml('<a xmlns=""><b xmlns="urn:b"><c xmlns=""><d xmlns=""/></c></b></a>')
    expect(canonicalize(root).toString()).toBe('<a><b xmlns="urn:b"><c xmlns=""><d></d></c></b></a>')
  })
})

// Random documents, canonicalised whole by libxml2 (`xmllint --c14n`) and by us: the same bytes.
describe.skipIf(!xmllintAvailable)('canonicalize agrees with xmllint --c14n', () => {
  const tmp = makeTempDir('c14n-')
  afterAll(() => tmp.cleanup())

  const textUnit = fc.constantFrom(
    'a',
    'ø',
    ' ',
    '\t',
    '\n',
    '\r\n',
    '\r',
    '&amp;',
    '&lt;',
    '>',
    '&#13;',
    '&#x9;',
    '"',
    "'",
    '<![CDATA[<&>]]>',
    '<?pi x?>',
  )
  const attrUnit = fc.constantFrom(
    'a',
    'ø',
    ' ',
    '\t',
    '\n',
    '\r\n',
    '&amp;',
    '&lt;',
    '>',
    '&quot;',
    '&#13;',
    '&#9;',
    '&#10;',
    "'",
  )
  const text = fc.string({ unit: textUnit, maxLength: 5 })
  const attrs = fc.uniqueArray(
    fc.record({
      name: fc.constantFrom('b', 'a', 'p:a', 'q:a', 'p:b', 'xml:lang', 'z'),
      value: fc.string({ unit: attrUnit, maxLength: 4 }),
    }),
    { selector: (a) => a.name, maxLength: 4 },
  )
  const decls = fc.record({
    def: fc.option(fc.constantFrom('urn:x', 'urn:y', '')),
    p: fc.option(fc.constantFrom('urn:p1', 'urn:p2')),
    q: fc.option(fc.constantFrom('urn:q1', 'urn:q2')),
  })
  const tree = fc.letrec<{ node: string }>((tie) => ({
    node: fc
      .record({
        name: fc.constantFrom('e', 'f', 'p:e', 'q:f'),
        decls,
        attrs,
        kids: fc.array(fc.oneof({ depthSize: 'small' }, text, tie('node')), { maxLength: 3 }),
      })
      .map(({ name, decls, attrs, kids }) => {
        const d = [
          decls.def !== null ? ` xmlns="${decls.def}"` : '',
          decls.p !== null ? ` xmlns:p="${decls.p}"` : '',
          decls.q !== null ? ` xmlns:q="${decls.q}"` : '',
        ].join('')
        const a = attrs.map((x) => ` ${x.name}="${x.value}"`).join('')
        return kids.length === 0 ? `<${name}${d}${a}/>` : `<${name}${d}${a}>${kids.join('')}</${name}>`
      }),
  }))

  it('on random documents', () => {
    fc.assert(
      fc.property(tree.node, (inner) => {
        const doc = `<?xml version="1.0" encoding="UTF-8"?>\n<root xmlns:p="urn:p0" xmlns:q="urn:q0">${inner}</root>`
        const path = join(tmp.dir, 'doc.xml')
        writeFileSync(path, doc)
        const r = spawnSync('xmllint', ['--c14n', path])
        expect(r.status, r.stderr.toString()).toBe(0)
        expect(canonicalize(parseXml(doc)).toString()).toBe(r.stdout.toString())
      }),
      { numRuns: 200 },
    )
  })
})
