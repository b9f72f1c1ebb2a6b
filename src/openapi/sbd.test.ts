import { describe, expect, it } from 'vitest'
import { ApiError } from '../errors/api-error.js'
import { BUSINESS_MESSAGE_TYPES } from '../sbd/business-schemas.js'
import { parseSbd, serializeSbd } from '../sbd/parse.js'
import { FULL, header, sbdJson } from '../sbd/test-support.js'
import { validateSbd } from '../sbd/validate.js'
import { buildOpenApiDocument } from './document.js'
import { anyCase, declaredRequired, headerRequired, SBD } from './sbd.js'
import { schemaValidator } from './test-support.js'

type Json = any
type Path = (string | number)[]

const NOW = new Date('2026-03-10T09:00:00Z')
const doc = buildOpenApiDocument({ security: false })
const loose = schemaValidator(doc)
const strict = schemaValidator(doc, { strict: true })

const schemaTakes = (value: unknown) => loose.errors(SBD, value).length === 0
/** What `POST /api/messages/out` checks before it looks at the receiver: binding and bean validation. */
function validatorTakes(value: unknown): boolean {
  try {
    return validateSbd(parseSbd(value), NOW).length === 0
  } catch (error) {
    if (error instanceof ApiError) return false
    throw error
  }
}

/** An arkivmelding SBD with every header member, so every member can be taken away. */
function fullest(): Json {
  const h: Json = header('arkivmelding')
  h.sender[0].contactInformation = [
    {
      contact: 'Ola',
      emailAddress: 'ola@example.no',
      faxNumber: '1',
      telephoneNumber: '2',
      contactTypeIdentifier: 'x',
    },
  ]
  h.documentIdentification.creationDateAndTime = '2026-03-10T10:00:00+01:00'
  h.documentIdentification.multipleType = false
  h.manifest = {
    numberOfItems: 1,
    manifestItem: [
      {
        mimeTypeQualifierCode: 'application/pdf',
        uniformResourceIdentifier: 'a.pdf',
        description: 'A',
        languageCode: 'no',
      },
    ],
  }
  h.businessScope.scope[0].scopeInformation[0].requestingDocumentInstanceIdentifier = 'r'
  h.businessScope.scope.push({ type: 'SenderRef', instanceIdentifier: 'sak 2026/17' })
  return { standardBusinessDocumentHeader: h, arkivmelding: FULL.arkivmelding }
}

function pathsOf(value: unknown, at: Path = []): Path[] {
  if (Array.isArray(value)) return value.length ? pathsOf(value[0], [...at, 0]) : []
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([k, v]) => [[...at, k], ...pathsOf(v, [...at, k])])
}

function edited(path: Path, change: (parent: Json, key: string | number) => void): Json {
  const copy = structuredClone(fullest())
  let node = copy
  for (const key of path.slice(0, -1)) node = node[key]
  change(node, path[path.length - 1]!)
  return copy
}

const name = (path: Path) => path.join('.')

describe('the SBD schema', () => {
  it('takes every business message as the fixtures send it, and the API’s answer for it', () => {
    for (const type of BUSINESS_MESSAGE_TYPES) {
      for (const sbd of [sbdJson(type, FULL[type]), sbdJson(type, {})]) {
        expect(loose.errors(SBD, sbd), type).toEqual([])
        expect(validatorTakes(sbd), type).toBe(true)
        // the answer: no member the document lacks
        expect(strict.errors(SBD, serializeSbd(parseSbd(sbd))), type).toEqual([])
      }
    }
    expect(schemaTakes(fullest())).toBe(true)
    expect(strict.errors(SBD, serializeSbd(parseSbd(fullest())))).toEqual([])
  })

  it('requires exactly the header members the validator requires', () => {
    const refused: string[] = []
    for (const path of pathsOf(fullest())) {
      const sbd = edited(path, (parent, key) => {
        if (Array.isArray(parent)) parent.splice(Number(key), 1)
        else delete parent[key]
      })
      expect(schemaTakes(sbd), `without ${name(path)}`).toBe(validatorTakes(sbd))
      if (!schemaTakes(sbd)) refused.push(name(path))
    }
    expect(refused).toEqual(
      expect.arrayContaining([
        'standardBusinessDocumentHeader',
        'arkivmelding',
        'standardBusinessDocumentHeader.headerVersion',
        'standardBusinessDocumentHeader.documentIdentification.type',
        'standardBusinessDocumentHeader.sender.0.identifier.value',
        'standardBusinessDocumentHeader.businessScope.scope.0.type',
        'standardBusinessDocumentHeader.manifest.manifestItem.0.uniformResourceIdentifier',
      ]),
    )
    expect([...headerRequired()]).toContain('standardBusinessDocumentHeader.documentIdentification.standard')
  })

  it('bounds the header’s lists as the validator does', () => {
    for (const path of pathsOf(fullest())) {
      const sbd = fullest()
      const value = path.reduce((node: Json, key) => node[key], sbd)
      if (!Array.isArray(value) || name(path).startsWith('arkivmelding')) continue
      const empty = edited(path, (parent, key) => {
        parent[key] = []
      })
      const two = edited(path, (parent, key) => {
        parent[key] = [parent[key][0], { ...parent[key][0], ...differentFrom(name(path)) }]
      })
      expect(schemaTakes(empty), `${name(path)} = []`).toBe(validatorTakes(empty))
      expect(schemaTakes(two), `${name(path)} with two`).toBe(validatorTakes(two))
    }
  })

  it('agrees with the validator on types, scope types and ids', () => {
    const cases: [Path, unknown][] = [
      [['standardBusinessDocumentHeader', 'businessScope', 'scope', 0, 'type'], 'conversationId'],
      [['standardBusinessDocumentHeader', 'businessScope', 'scope', 0, 'type'], 'ParentId'],
      [['standardBusinessDocumentHeader', 'businessScope', 'scope', 0, 'instanceIdentifier'], 'not-a-uuid'],
      [['standardBusinessDocumentHeader', 'businessScope', 'scope', 0, 'instanceIdentifier'], '1-1-1-1-1'],
      [['standardBusinessDocumentHeader', 'businessScope', 'scope', 1, 'instanceIdentifier'], 'not-a-uuid'],
      [['standardBusinessDocumentHeader', 'documentIdentification', 'instanceIdentifier'], 'not-a-uuid'],
      [['standardBusinessDocumentHeader', 'documentIdentification', 'instanceIdentifier'], 'ab-0-0-0-f'],
      [['standardBusinessDocumentHeader', 'documentIdentification', 'type'], 'ARKIVMELDING'],
      [['standardBusinessDocumentHeader', 'documentIdentification', 'type'], 'digital'],
      [['standardBusinessDocumentHeader', 'documentIdentification', 'type'], 'strange'],
    ]
    for (const [path, value] of cases) {
      const sbd = edited(path, (parent, key) => {
        parent[key] = value
      })
      expect(schemaTakes(sbd), `${name(path)} = ${value}`).toBe(validatorTakes(sbd))
    }
    const root = (value: Json) => [schemaTakes(value), validatorTakes(value)]
    const { standardBusinessDocumentHeader: h, arkivmelding } = fullest()
    expect(root({ arkivmelding, standardBusinessDocumentHeader: h })).toEqual([true, true])
    expect(root({ standardBusinessDocumentHeader: h, Arkivmelding: arkivmelding })).toEqual([false, false])
    expect(root({ standardBusinessDocumentHeader: h, arkivmelding, extra: {} })).toEqual([false, false])
    expect(root({ standardBusinessDocumentHeader: h, digital: {} })).toEqual([false, false])
  })

  it('tells the business message fields its class declares required, checked only for DPH', () => {
    expect(declaredRequired('dialogmelding')).toEqual([
      'pasient',
      'pasient.etternavn',
      'pasient.fnr',
      'pasient.fornavn',
    ])
    expect(declaredRequired('digital')).toEqual(
      expect.arrayContaining(['tittel', 'spraak', 'digitalPostInfo.virkningsdato']),
    )
    const schemas = (doc.components as Json).schemas
    expect(schemas.DpiDigitalMessage.description).toMatch(/`tittel`/)
    expect(schemas.DpiDigitalMessage.required).toBeUndefined()
    expect(validatorTakes(sbdJson('digital', {}))).toBe(true)
  })

  it('matches a type name in any case', () => {
    const re = new RegExp(anyCase('arkivmelding_kvittering'))
    expect(
      ['arkivmelding_kvittering', 'ARKIVMELDING_KVITTERING', 'Arkivmelding_Kvittering'].every((s) =>
        re.test(s),
      ),
    ).toBe(true)
    expect(
      ['arkivmelding', 'arkivmelding_kvitteringx', 'xarkivmelding_kvittering'].some((s) => re.test(s)),
    ).toBe(false)
  })
})

/** A second list element that a Set of value objects keeps apart from the first. */
function differentFrom(path: string): Json {
  if (path.endsWith('sender') || path.endsWith('receiver'))
    return { identifier: { value: '0192:910075918', authority: 'iso6523-actorid-upis' } }
  if (path.endsWith('scope')) return { type: 'ReceiverRef', instanceIdentifier: 'ref 2' }
  if (path.endsWith('manifestItem')) return { uniformResourceIdentifier: 'b.pdf' }
  if (path.endsWith('contactInformation')) return { contact: 'Kari' }
  return { expectedResponseDateTime: '2099-02-01T12:00:00+01:00' }
}
