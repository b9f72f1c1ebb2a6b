import { existsSync, readFileSync } from 'node:fs'
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { ARKIVMELDING_NAMESPACE, arkivmeldingXml } from '../packages/client/src/arkivmelding.js'
import { parseArkivmelding } from '../src/sbd/arkivmelding.js'

/** The arkivmelding.xml the command line writes for `send FILE...`. */

type Node = Record<string, unknown>
const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '' })

const nameOf = (n: Node) => Object.keys(n).find((k) => k !== ':@')!
const attrs = (n: Node) => (n[':@'] ?? {}) as Record<string, string>
const kids = (n: Node) => (n[nameOf(n)] as Node[]).filter((c) => !nameOf(c).startsWith('#'))
const text = (n: Node) =>
  (n[nameOf(n)] as Node[])
    .filter((c) => '#text' in c)
    .map((c) => String(c['#text']))
    .join('')
const child = (n: Node, name: string) => kids(n).find((c) => nameOf(c) === name)!
const all = (n: Node, name: string) => kids(n).filter((c) => nameOf(c) === name)

const fixed = () => {
  let i = 0
  return () => `00000000-0000-4000-8000-${String(++i).padStart(12, '0')}`
}
const NOW = new Date('2026-03-10T09:30:00.123Z')

function root(xml: string): Node {
  const doc = (parser.parse(xml) as Node[]).filter((n) => nameOf(n) !== '?xml')
  expect(doc).toHaveLength(1)
  return doc[0]!
}

describe('arkivmeldingXml', () => {
  it('lists the files, the first as hoveddokument, under one saksmappe and journalpost', () => {
    const xml = arkivmeldingXml({
      files: ['vedtak.pdf', 'vedlegg 1.docx'],
      title: 'Vedtak om tilskudd',
      now: NOW,
      newId: fixed(),
    })
    const am = root(xml)
    expect(nameOf(am)).toBe('arkivmelding')
    expect(attrs(am).xmlns).toBe(ARKIVMELDING_NAMESPACE)
    expect(text(child(am, 'antallFiler'))).toBe('2')
    expect(text(child(am, 'tidspunkt'))).toBe('2026-03-10T09:30:00Z')
    const mappe = child(am, 'mappe')
    expect(attrs(mappe)['xsi:type']).toBe('saksmappe')
    const jp = child(mappe, 'basisregistrering')
    expect(attrs(jp)['xsi:type']).toBe('journalpost')
    expect(text(child(jp, 'referanseForelderMappe'))).toBe(text(child(mappe, 'systemID')))
    expect(text(child(jp, 'offentligTittel'))).toBe('Vedtak om tilskudd')
    const docs = all(jp, 'dokumentbeskrivelse')
    expect(docs.map((d) => text(child(d, 'tilknyttetRegistreringSom')))).toEqual(['Hoveddokument', 'Vedlegg'])
    expect(docs.map((d) => text(child(d, 'dokumentnummer')))).toEqual(['1', '2'])
    expect(docs.map((d) => text(child(child(d, 'dokumentobjekt'), 'referanseDokumentfil')))).toEqual([
      'vedtak.pdf',
      'vedlegg 1.docx',
    ])
    expect(docs.map((d) => text(child(d, 'tittel')))).toEqual(['vedtak', 'vedlegg 1'])
  })

  it('takes the title from the first file when none is given, and escapes what XML must', () => {
    const xml = arkivmeldingXml({ files: ['R&D <plan> "2026".pdf', "o'neil.txt"] })
    const summary = parseArkivmelding(xml)
    expect(summary.title).toBe('R&D <plan> "2026"')
    expect(summary.referencedFiles).toEqual(['R&D <plan> "2026".pdf', "o'neil.txt"])
    expect(xml).not.toContain('<plan>')
  })

  it("is what the integration point's own parser reads: title and every referenced file", () => {
    const files = ['hoved.pdf', 'a.png', 'b.xlsx']
    expect(parseArkivmelding(arkivmeldingXml({ files, title: 'Søknad' }))).toEqual({
      title: 'Søknad',
      reference: null,
      referencedFiles: files,
    })
  })

  it('refuses no files and repeated names', () => {
    expect(() => arkivmeldingXml({ files: [] })).toThrow(/at least one/)
    expect(() => arkivmeldingXml({ files: ['a.pdf', 'a.pdf'] })).toThrow(/distinct/)
  })
})

// The XSDs are reference material outside the repository: checked when they are there.
const XSD_DIR = new URL('../../shared/reference/data/xsd/', import.meta.url)
const haveXsd = existsSync(new URL('arkivmelding.xsd', XSD_DIR))

describe.skipIf(!haveXsd)('arkivmeldingXml against the arkivmelding XSD', () => {
  it('has every required element, in the order of the sequence, with valid values', () => {
    const xsd = new Xsd(
      readFileSync(new URL('arkivmelding.xsd', XSD_DIR), 'utf8'),
      readFileSync(new URL('metadatakatalog.xsd', XSD_DIR), 'utf8'),
    )
    const xml = arkivmeldingXml({ files: ['vedtak.pdf', 'vedlegg.pdf', 'kart.png'], title: 'Sak' })
    expect(xsd.check(root(xml), 'arkivmelding')).toEqual([])
    // the checker finds what it should: a required element left out, and a wrong enumeration value
    const broken = xml.replace(/<saksstatus>.*<\/saksstatus>/, '').replace('Produksjonsformat', 'Utkast')
    expect(xsd.check(root(broken), 'arkivmelding')).toEqual([
      expect.stringContaining('variantformat'),
      expect.stringContaining('saksstatus'),
    ])
    // and an element out of its place in the sequence
    const misplaced = xml
      .replace(/(<saksdato>.*<\/saksdato>)/, '')
      .replace('<tittel>Sak</tittel>', '$&<saksdato>2026-01-01</saksdato>')
    expect(xsd.check(root(misplaced), 'arkivmelding')).not.toEqual([])
  })
})

interface Decl {
  name: string
  type: string
  required: boolean
}

/** Just enough of XML Schema for this XSD: sequences (with choices), extensions, simple-type checks. */
class Xsd {
  private readonly complex = new Map<string, Node>()
  private readonly simple = new Map<string, Node>()

  constructor(arkivmelding: string, metadatakatalog: string) {
    for (const [source, prefix] of [
      [arkivmelding, ''],
      [metadatakatalog, 'n5mdk:'],
    ] as const) {
      const schema = (parser.parse(source) as Node[]).find((n) => nameOf(n) === 'xs:schema')!
      for (const t of kids(schema)) {
        if (nameOf(t) === 'xs:complexType') this.complex.set(prefix + attrs(t).name, t)
        if (nameOf(t) === 'xs:simpleType') this.simple.set(prefix + attrs(t).name, t)
      }
    }
  }

  /** The element declarations of a complex type, base type's first, in order. */
  decls(type: string): Decl[] {
    const t = this.complex.get(type)!
    const content = kids(t).find((k) => nameOf(k) === 'xs:complexContent')
    if (content) {
      const ext = child(content, 'xs:extension')
      return [...this.decls(attrs(ext).base!), ...this.sequence(child(ext, 'xs:sequence'), true)]
    }
    return this.sequence(child(t, 'xs:sequence'), true)
  }

  private sequence(seq: Node, required: boolean): Decl[] {
    return kids(seq).flatMap((k) => {
      const a = attrs(k)
      const req = required && a.minOccurs !== '0'
      if (nameOf(k) === 'xs:element') return [{ name: a.name!, type: a.type!, required: req }]
      // a choice's alternatives and an optional inner sequence are never each required
      return this.sequence(k, nameOf(k) === 'xs:sequence' && req)
    })
  }

  check(el: Node, type: string, path = type): string[] {
    const decls = this.decls(type)
    const problems: string[] = []
    // the index of the last matched declaration; a repeated element matches it again
    let at = -1
    for (const c of kids(el)) {
      const name = nameOf(c)
      const i = decls.findIndex((d, j) => j >= Math.max(at, 0) && d.name === name)
      if (i < 0) {
        problems.push(`${path}/${name}: not allowed here`)
        continue
      }
      problems.push(
        ...decls
          .slice(at + 1, i)
          .filter((d) => d.required)
          .map((d) => `${path}/${d.name}: missing`),
      )
      at = i
      const declared = decls[i]!.type
      const actual = attrs(c)['xsi:type'] ?? declared
      if (this.complex.has(actual)) problems.push(...this.check(c, actual, `${path}/${name}`))
      else problems.push(...this.value(text(c), declared, `${path}/${name}`))
    }
    const seen = new Set(kids(el).map(nameOf))
    problems.push(
      ...decls
        .filter((d) => d.required && !seen.has(d.name) && decls.indexOf(d) > at)
        .map((d) => `${path}/${d.name}: missing`),
    )
    return problems
  }

  private value(v: string, type: string, path: string): string[] {
    const t = this.simple.get(type)
    const restriction = t && child(t, 'xs:restriction')
    const base = restriction ? attrs(restriction).base! : type
    const enums = restriction ? all(restriction, 'xs:enumeration').map((e) => attrs(e).value) : []
    const pattern = restriction && kids(restriction).find((k) => nameOf(k) === 'xs:pattern')
    const ok =
      (enums.length === 0 || enums.includes(v)) &&
      (!pattern || new RegExp(`^(${attrs(pattern).value})$`).test(v)) &&
      (base !== 'xs:dateTime' || /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/.test(v)) &&
      (base !== 'xs:date' || /^\d{4}-\d\d-\d\d$/.test(v)) &&
      (!['xs:integer', 'xs:int'].includes(base) || /^\d+$/.test(v))
    return ok ? [] : [`${path}: ${JSON.stringify(v)} is not a valid ${type}`]
  }
}
