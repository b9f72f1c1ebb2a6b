/**
 * The StandardBusinessDocument's JSON Schema, generated from the shapes the API binds and writes SBDs with
 * (src/sbd/schema.ts, business-schemas.ts) and the header's required fields asked of its validator
 * (src/sbd/validate.ts). The root has exactly two members, the header and the business message under the name
 * of its type (as efm-common's StandardBusinessDocumentDeserializer reads it): one `oneOf` branch per
 * business message type.
 */
import { businessMessageViolations } from '../sbd/business-constraints.js'
import {
  BUSINESS_MESSAGE_TYPES,
  type BusinessMessageTypeName,
  businessMessageShape,
} from '../sbd/business-schemas.js'
import { HEADER_MEMBER } from '../sbd/parse.js'
import { headerShape } from '../sbd/schema.js'
import { headerViolations } from '../sbd/validate.js'
import {
  type Components,
  componentName,
  type JsonSchema,
  probeRequired,
  ref,
  type ShapeContext,
  shapeSchema,
} from './json-schema.js'
import { HOVEDDOKUMENT_NOTE, SBD_NOTES } from './sbd-notes.js'

export const SBD = 'StandardBusinessDocument'

/** The scope types the header validator allows (its `@OneOf`); test/openapi.test.ts holds them equal. */
export const SCOPE_TYPES = [
  'JournalpostId',
  'ConversationId',
  'ParentId',
  'SenderRef',
  'ReceiverRef',
  'MessageChannel',
]

/** The header's constraints besides required fields; each is checked against the validator in the tests. */
const HEADER_KEYWORDS: Record<string, JsonSchema> = {
  'StandardBusinessDocumentHeader.sender': { maxItems: 1 },
  'StandardBusinessDocumentHeader.receiver': { maxItems: 1 },
  'Manifest.manifestItem': { minItems: 1 },
  'BusinessScope.scope': { minItems: 1 },
  'Scope.type': { enum: SCOPE_TYPES },
  // `format` is an annotation here: the validator takes what Java's UUID.fromString takes (`1-1-1-1-1` too)
  'DocumentIdentification.instanceIdentifier': { format: 'uuid' },
  Scope: {
    if: { properties: { type: { const: 'ConversationId' } }, required: ['type'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a promise
    then: { properties: { instanceIdentifier: { format: 'uuid' } } },
  },
}

/** The header fields the validator requires, as `standardBusinessDocumentHeader.a.b[].c` paths. */
export function headerRequired(): Set<string> {
  return probeRequired(headerShape, HEADER_MEMBER, (header) =>
    headerViolations(
      { standardBusinessDocumentHeader: header as never, type: 'arkivmelding', businessMessage: {} },
      new Date(0),
    ),
  )
}

/**
 * The fields a business message's class declares required. The reference checks them only for DPH
 * (docs/compatibility.md), so they are told in the description, not made `required`.
 */
export function declaredRequired(type: BusinessMessageTypeName): string[] {
  const shape = businessMessageShape(type)
  return [...probeRequired(shape, '', (value) => businessMessageViolations(type, value as never))].sort()
}

/** Adds the SBD components and returns a reference to the root schema. */
export function addSbdSchemas(components: Components): JsonSchema {
  const context = (required: ReadonlySet<string>, notes: Record<string, string>): ShapeContext => ({
    components,
    required,
    notes: { ...SBD_NOTES, ...notes },
    keywords: HEADER_KEYWORDS,
  })
  shapeSchema(headerShape, HEADER_MEMBER, context(headerRequired(), {}))
  for (const type of BUSINESS_MESSAGE_TYPES) {
    const shape = businessMessageShape(type)
    const name = componentName(shape.java)
    const declared = declaredRequired(type)
    const notes: Record<string, string> = { [`${name}.hoveddokument`]: HOVEDDOKUMENT_NOTE }
    if (declared.length) {
      notes[name] =
        `${SBD_NOTES[name] ?? `\`${type}\``} The reference's class declares these fields required and checks ` +
        `them only for DPH: ${declared.map((p) => `\`${p}\``).join(', ')}.`
    }
    shapeSchema(shape, '', context(new Set(), notes))
    components.define(`${SBD}.${type}`, rootVariant(type, name))
  }
  return components.define(SBD, {
    description:
      'A StandardBusinessDocument: exactly two members, `standardBusinessDocumentHeader` and the business ' +
      'message, whose name is the header’s `documentIdentification.type` in lower case. Values are bound ' +
      'leniently as Jackson does (a number for a string, `"true"` for a boolean, null for absent).',
    oneOf: BUSINESS_MESSAGE_TYPES.map((t) => ref(`${SBD}.${t}`)),
  })
}

function rootVariant(type: BusinessMessageTypeName, messageComponent: string): JsonSchema {
  return {
    type: 'object',
    title: type,
    properties: {
      [HEADER_MEMBER]: {
        ...ref('StandardBusinessDocumentHeader'),
        properties: {
          documentIdentification: { properties: { type: { pattern: anyCase(type) } } },
        },
      },
      [type]: ref(messageComponent),
    },
    required: [HEADER_MEMBER, type],
    additionalProperties: false,
  }
}

/** A pattern matching exactly `word` in any case (JSON Schema patterns have no `i` flag). */
export function anyCase(word: string): string {
  const body = [...word]
    .map((ch) => (/[a-z]/i.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch.replace(/\W/g, '\\$&')))
    .join('')
  return `^${body}$`
}
