// A small, strict XML reader for the signed files of a DPI package (signatures.xml, the SDP
// manifest.xml): elements, attributes, text, CDATA, comments and processing instructions, with
// namespaces resolved. No DTD (a DOCTYPE is refused), so no entities beyond the five predefined ones
// and character references: nothing expands, nothing is fetched. Signature checking needs what a
// general parser throws away (document order of namespace declarations, the exact text, which
// namespace each element really has), so the tree keeps it, and xml-c14n.ts canonicalises from it.

export class XmlError extends Error {
  override name = 'XmlError'
}

export interface XmlAttr {
  /** the qualified name as written (`Id`, `xmlns:ns2`, `xml:lang`) */
  name: string
  /** the value with references decoded and attribute-value normalisation applied */
  value: string
}

export type XmlNode =
  | XmlElement
  | { kind: 'text'; text: string }
  | { kind: 'pi'; target: string; data: string }

export interface XmlElement {
  kind: 'element'
  /** the qualified name as written */
  name: string
  local: string
  /** the namespace URI, '' for none */
  ns: string
  /** attributes and namespace declarations, in document order */
  attrs: XmlAttr[]
  children: XmlNode[]
  parent: XmlElement | null
  /** prefix ('' for the default namespace) → URI, every binding in scope here */
  scope: ReadonlyMap<string, string>
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace'
const NAME = /^[A-Za-z_:\u00c0-\uffff][-A-Za-z0-9._:\u00b7\u00c0-\uffff]*/
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const MAX_DEPTH = 64

/** Parses a UTF-8 document into its root element; throws XmlError with what is wrong. */
export function parseXml(input: Buffer | string): XmlElement {
  let src = typeof input === 'string' ? input : input.toString('utf8')
  if (src.charCodeAt(0) === 0xfeff) src = src.slice(1)
  // end-of-line handling (XML 1.0, section 2.11) before anything else; `&#13;` survives as a CR
  src = src.replace(/\r\n?/g, '\n')
  return new Reader(src).document()
}

class Reader {
  private pos = 0
  constructor(private readonly src: string) {}

  document(): XmlElement {
    const decl = /^<\?xml\s[^?]*\?>/.exec(this.src)
    if (decl) {
      const enc = /encoding\s*=\s*["']([^"']+)["']/.exec(decl[0])
      if (enc && !/^utf-?8$/i.test(enc[1]!)) throw new XmlError(`the encoding ${enc[1]} is not UTF-8`)
      this.pos = decl[0].length
    }
    let root: XmlElement | null = null
    for (;;) {
      this.skipSpace()
      if (this.pos >= this.src.length) break
      if (this.src.startsWith('<!--', this.pos)) this.comment()
      else if (this.src.startsWith('<!', this.pos)) throw new XmlError('a DOCTYPE is not allowed')
      else if (this.src.startsWith('<?', this.pos)) this.pi()
      else if (this.src[this.pos] === '<' && !root) root = this.element(null, 0)
      else throw new XmlError(root ? 'content after the root element' : 'no root element')
    }
    if (!root) throw new XmlError('no root element')
    return root
  }

  private skipSpace(): void {
    while (/[ \t\n]/.test(this.src[this.pos] ?? '')) this.pos++
  }

  private until(end: string, what: string): string {
    const at = this.src.indexOf(end, this.pos)
    if (at < 0) throw new XmlError(`an unterminated ${what}`)
    const body = this.src.slice(this.pos, at)
    this.pos = at + end.length
    return body
  }

  private comment(): void {
    this.pos += 4
    if (this.until('-->', 'comment').includes('--')) throw new XmlError('"--" inside a comment')
  }

  private pi(): { kind: 'pi'; target: string; data: string } {
    this.pos += 2
    const body = this.until('?>', 'processing instruction')
    const target = NAME.exec(body)?.[0]
    if (!target || /^xml$/i.test(target)) throw new XmlError('a misplaced or nameless processing instruction')
    return { kind: 'pi', target, data: body.slice(target.length).replace(/^[ \t\n]+/, '') }
  }

  private name(): string {
    const m = NAME.exec(this.src.slice(this.pos, this.pos + 1024))
    if (!m) throw new XmlError(`a name expected at offset ${this.pos}`)
    this.pos += m[0].length
    return m[0]
  }

  private element(parent: XmlElement | null, depth: number): XmlElement {
    if (depth > MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH}`)
    this.pos++
    const name = this.name()
    const attrs = this.attributes()
    const scope = new Map(parent?.scope ?? [['xml', XML_NS]])
    for (const a of attrs) {
      if (a.name === 'xmlns') scope.set('', a.value)
      else if (a.name.startsWith('xmlns:')) {
        if (a.value === '') throw new XmlError(`${a.name} undeclares a prefix (XML 1.0 cannot)`)
        scope.set(a.name.slice(6), a.value)
      }
    }
    const [prefix, local] = split(name)
    const ns = resolve(scope, prefix, name)
    for (const a of attrs)
      if (a.name.includes(':') && !a.name.startsWith('xmlns:')) resolve(scope, split(a.name)[0], a.name)
    const el: XmlElement = { kind: 'element', name, local, ns, attrs, children: [], parent, scope }
    if (this.src.startsWith('/>', this.pos)) {
      this.pos += 2
      return el
    }
    if (this.src[this.pos] !== '>') throw new XmlError(`a malformed start tag <${name}>`)
    this.pos++
    this.content(el, depth)
    return el
  }

  private attributes(): XmlAttr[] {
    const attrs: XmlAttr[] = []
    for (;;) {
      const before = this.pos
      this.skipSpace()
      const c = this.src[this.pos]
      if (c === '>' || c === '/') return attrs
      if (this.pos === before)
        throw new XmlError(`white space expected between attributes at offset ${this.pos}`)
      const name = this.name()
      this.skipSpace()
      if (this.src[this.pos] !== '=') throw new XmlError(`the attribute ${name} has no value`)
      this.pos++
      this.skipSpace()
      const quote = this.src[this.pos]
      if (quote !== '"' && quote !== "'") throw new XmlError(`the attribute ${name} is not quoted`)
      this.pos++
      const raw = this.until(quote, 'attribute value')
      if (raw.includes('<')) throw new XmlError(`"<" in the value of ${name}`)
      if (attrs.some((a) => a.name === name)) throw new XmlError(`the attribute ${name} appears twice`)
      // attribute-value normalisation (XML 1.0, section 3.3.3, CDATA type): literal white space becomes a space
      attrs.push({ name, value: decode(raw.replace(/[\t\n]/g, ' ')) })
    }
  }

  private content(el: XmlElement, depth: number): void {
    for (;;) {
      const lt = this.src.indexOf('<', this.pos)
      if (lt < 0) throw new XmlError(`the element <${el.name}> is not closed`)
      if (lt > this.pos) {
        const raw = this.src.slice(this.pos, lt)
        if (raw.includes(']]>')) throw new XmlError('"]]>" in text')
        pushText(el, decode(raw))
        this.pos = lt
      }
      if (this.src.startsWith('</', this.pos)) {
        this.pos += 2
        const end = this.name()
        this.skipSpace()
        if (end !== el.name || this.src[this.pos] !== '>')
          throw new XmlError(`<${el.name}> is closed by </${end}>`)
        this.pos++
        return
      }
      if (this.src.startsWith('<!--', this.pos)) this.comment()
      else if (this.src.startsWith('<![CDATA[', this.pos)) {
        this.pos += 9
        pushText(el, this.until(']]>', 'CDATA section'))
      } else if (this.src.startsWith('<!', this.pos)) throw new XmlError('a DOCTYPE is not allowed')
      else if (this.src.startsWith('<?', this.pos)) el.children.push(this.pi())
      else el.children.push(this.element(el, depth + 1))
    }
  }
}

function pushText(el: XmlElement, text: string): void {
  const last = el.children[el.children.length - 1]
  if (last?.kind === 'text') last.text += text
  else if (text !== '') el.children.push({ kind: 'text', text })
}

function split(qname: string): [string, string] {
  const colon = qname.indexOf(':')
  return colon < 0 ? ['', qname] : [qname.slice(0, colon), qname.slice(colon + 1)]
}

function resolve(scope: ReadonlyMap<string, string>, prefix: string, qname: string): string {
  const ns = scope.get(prefix)
  if (prefix !== '' && ns === undefined) throw new XmlError(`the prefix of ${qname} is not declared`)
  return ns ?? ''
}

/** The five predefined entities and character references; any other `&` is an error. */
function decode(raw: string): string {
  return raw.replace(/&([^;&]*);?/g, (all, ref: string) => {
    if (!all.endsWith(';')) throw new XmlError('a bare "&" in the document')
    if (PREDEFINED[ref] !== undefined) return PREDEFINED[ref]
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref)
    if (!m) throw new XmlError(`the entity &${ref}; is not defined (no DTD is read)`)
    const code = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number(m[2])
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff)
    if (!allowed) throw new XmlError(`the character reference &${ref}; is not an XML character`)
    return String.fromCodePoint(code)
  })
}

// --- navigation -----------------------------------------------------------------------------------

export function elements(el: XmlElement, ns?: string, local?: string): XmlElement[] {
  return el.children.filter(
    (c): c is XmlElement =>
      c.kind === 'element' && (ns === undefined || c.ns === ns) && (local === undefined || c.local === local),
  )
}

export function child(el: XmlElement, ns: string, local: string): XmlElement | null {
  return elements(el, ns, local)[0] ?? null
}

/** The element's own text (children's text ignored), as written. */
export function textOf(el: XmlElement): string {
  return el.children.map((c) => (c.kind === 'text' ? c.text : '')).join('')
}

export function attr(el: XmlElement, name: string): string | null {
  return el.attrs.find((a) => a.name === name)?.value ?? null
}

/** Every element of the tree, depth first in document order. */
export function* descendants(el: XmlElement): Generator<XmlElement> {
  yield el
  for (const c of elements(el)) yield* descendants(c)
}
