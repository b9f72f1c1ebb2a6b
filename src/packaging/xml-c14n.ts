// Inclusive Canonical XML (W3C C14N 1.0, and 1.1 for what differs in a signature's subtree), without
// comments, of one element subtree of a tree from xml-tree.ts. That is what an XMLDSig signature is
// computed over: SignedInfo (CanonicalizationMethod) and a same-document Reference such as XAdES's
// SignedProperties. The apex carries every namespace binding in scope there and, for 1.0, the xml:*
// attributes it inherits; inside, a declaration is written only where it changes the binding in force.

import { type XmlAttr, type XmlElement, XmlError, type XmlNode } from './xml-tree.js'

export const C14N_10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'
export const C14N_11 = 'http://www.w3.org/2006/12/xml-c14n11'
export type C14nVersion = '1.0' | '1.1'

/** The canonical form of `el` and everything under it. */
export function canonicalize(el: XmlElement, version: C14nVersion = '1.0'): Buffer {
  const out: string[] = []
  write(el, new Map([['', '']]), out, inheritedXmlAttrs(el, version))
  return Buffer.from(out.join(''), 'utf8')
}

/** The algorithm URI as a version, or null for anything else (exclusive C14N, with comments, ...). */
export function c14nVersion(uri: string | null): C14nVersion | null {
  return uri === C14N_10 ? '1.0' : uri === C14N_11 ? '1.1' : null
}

/**
 * xml:* attributes of the ancestors that the apex does not set itself: all of them in 1.0; in 1.1
 * xml:lang and xml:space only (xml:id is not inherited, and xml:base would need its URI joining,
 * which a signature of this shape never has: refused rather than got wrong).
 */
function inheritedXmlAttrs(el: XmlElement, version: C14nVersion): XmlAttr[] {
  const found = new Map<string, XmlAttr>()
  for (let p = el.parent; p; p = p.parent) {
    for (const a of p.attrs) {
      if (!a.name.startsWith('xml:') || found.has(a.name)) continue
      if (version === '1.1' && a.name === 'xml:base')
        throw new XmlError('xml:base above a C14N 1.1 signed element is not supported')
      if (version === '1.0' || a.name === 'xml:lang' || a.name === 'xml:space') found.set(a.name, a)
    }
  }
  return [...found.values()].filter((a) => !el.attrs.some((own) => own.name === a.name))
}

function write(el: XmlElement, rendered: ReadonlyMap<string, string>, out: string[], extra: XmlAttr[]): void {
  const decls: [string, string][] = []
  for (const [prefix, uri] of el.scope) {
    if (prefix === 'xml') continue
    if ((rendered.get(prefix) ?? (prefix === '' ? '' : undefined)) !== uri) decls.push([prefix, uri])
  }
  decls.sort(([a], [b]) => compare(a, b))
  const attrs = [...el.attrs, ...extra]
    .filter((a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'))
    .map((a) => ({ a, ns: attrNs(el, a.name), local: a.name.slice(a.name.indexOf(':') + 1) }))
    .sort((x, y) => compare(x.ns, y.ns) || compare(x.local, y.local))
  out.push(`<${el.name}`)
  for (const [prefix, uri] of decls)
    out.push(prefix === '' ? ` xmlns="${escAttr(uri)}"` : ` xmlns:${prefix}="${escAttr(uri)}"`)
  for (const { a } of attrs) out.push(` ${a.name}="${escAttr(a.value)}"`)
  out.push('>')
  const next = decls.length === 0 ? rendered : new Map([...rendered, ...decls])
  for (const c of el.children) writeNode(c, next, out)
  out.push(`</${el.name}>`)
}

function writeNode(node: XmlNode, rendered: ReadonlyMap<string, string>, out: string[]): void {
  if (node.kind === 'element') write(node, rendered, out, [])
  else if (node.kind === 'text') out.push(escText(node.text))
  else out.push(node.data === '' ? `<?${node.target}?>` : `<?${node.target} ${node.data}?>`)
}

function attrNs(el: XmlElement, name: string): string {
  const colon = name.indexOf(':')
  return colon < 0 ? '' : (el.scope.get(name.slice(0, colon)) ?? '')
}

/** C14N sorts by code point (UCS), not UTF-16 units: equal for the BMP names signatures use. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Text escaped as Canonical XML writes it. */
export const escText = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;')

/** An attribute value escaped as Canonical XML writes it. */
export const escAttr = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;')
