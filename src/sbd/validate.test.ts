import { describe, expect, it } from 'vitest'
import { parseSbd } from './parse.js'
import { FNR, header, type Json, sbdJson } from './test-support.js'
import {
  methodArgumentNotValid,
  VALIDATION_FAILED_MESSAGE,
  validateBusinessMessage,
  validateForService,
  validateSbd,
  validateSbdAsParameter,
} from './validate.js'

const NOW = new Date('2026-01-15T12:00:00+01:00')
const H = 'standardBusinessDocumentHeader'

function withHeader(
  type: 'arkivmelding' | 'dialogmelding',
  edit: (h: Record<string, Json>) => void,
  bm: Record<string, unknown> = {},
) {
  const h = header(type)
  edit(h)
  // the business message first, so that the header may lack its type as the tests need
  return parseSbd({ [type]: bm, standardBusinessDocumentHeader: h })
}

describe('validateSbd (Default group, as Spring reports @Valid @RequestBody)', () => {
  it('passes a complete SBD', () => {
    expect(validateSbd(parseSbd(sbdJson('arkivmelding')), NOW)).toEqual([])
  })

  it('reports a missing headerVersion with Spring’s full code list', () => {
    const errors = validateSbd(
      withHeader('arkivmelding', (h) => delete h.headerVersion),
      NOW,
    )
    expect(errors).toEqual([
      {
        codes: [
          'NotNull.standardBusinessDocument.standardBusinessDocumentHeader.headerVersion',
          'NotNull.standardBusinessDocumentHeader.headerVersion',
          'NotNull.headerVersion',
          'NotNull.java.lang.String',
          'NotNull',
        ],
        defaultMessage: 'must not be null',
        objectName: 'standardBusinessDocument',
        field: 'standardBusinessDocumentHeader.headerVersion',
        rejectedValue: null,
        bindingFailure: false,
        code: 'NotNull',
      },
    ])
  })

  it('gives paths through Sets as [] and no field type there', () => {
    const errors = validateSbd(
      withHeader('arkivmelding', (h) => (h.receiver[0].identifier.value = null)),
      NOW,
    )
    expect(errors).toHaveLength(1)
    expect(errors[0]!.field).toBe(`${H}.receiver[].identifier.value`)
    expect(errors[0]!.codes).toEqual([
      'NotNull.standardBusinessDocument.standardBusinessDocumentHeader.receiver[].identifier.value',
      'NotNull.standardBusinessDocument.standardBusinessDocumentHeader.receiver.identifier.value',
      'NotNull.standardBusinessDocumentHeader.receiver[].identifier.value',
      'NotNull.standardBusinessDocumentHeader.receiver.identifier.value',
      'NotNull.value',
      'NotNull',
    ])
  })

  it('allows at most one sender and one receiver', () => {
    const errors = validateSbd(
      withHeader('arkivmelding', (h) =>
        h.sender.push({ identifier: { value: '0192:123456785', authority: 'iso6523-actorid-upis' } }),
      ),
      NOW,
    )
    expect(errors.map((e) => [e.field, e.code, e.defaultMessage])).toEqual([
      [`${H}.sender`, 'Size', 'size must be between 0 and 1'],
    ])
    expect(errors[0]!.codes).toContain('Size.java.util.Set')
    expect(errors[0]!.rejectedValue).toHaveLength(2)
  })

  it('requires the sender value to be some identifier, but not the receiver’s', () => {
    const bad = withHeader('arkivmelding', (h) => {
      h.sender[0].identifier.value = 'nobody'
      h.receiver[0].identifier.value = 'nobody'
    })
    const errors = validateSbd(bad, NOW)
    expect(errors.map((e) => [e.field, e.code, e.defaultMessage, e.rejectedValue])).toEqual([
      [
        `${H}.sender[].identifier.value`,
        'SenderValue',
        "'nobody' is not a valid sender identifier.",
        'nobody',
      ],
    ])
    // any form passes, whatever the authority (PartnerIdentifier.isValid)
    expect(
      validateSbd(
        withHeader('arkivmelding', (h) => (h.sender[0].identifier.value = 'her-id:5')),
        NOW,
      ),
    ).toEqual([])
  })

  it('checks documentIdentification', () => {
    const errors = validateSbd(
      withHeader('arkivmelding', (h) => {
        h.documentIdentification.standard = null
        h.documentIdentification.typeVersion = null
        h.documentIdentification.instanceIdentifier = 'abc'
      }),
      NOW,
    )
    expect(errors.map((e) => [e.field, e.code, e.defaultMessage])).toEqual([
      [`${H}.documentIdentification.standard`, 'NotNull', 'must not be null'],
      [`${H}.documentIdentification.typeVersion`, 'NotNull', 'must not be null'],
      [`${H}.documentIdentification.instanceIdentifier`, 'UUID', "'abc' is not a UUID."],
    ])
    const missing = validateSbd(
      withHeader('arkivmelding', (h) => delete h.documentIdentification),
      NOW,
    )
    expect(missing.map((e) => e.codes.at(-2))).toEqual([
      'NotNull.no.difi.meldingsutveksling.domain.sbdh.DocumentIdentification',
    ])
  })

  it('accepts the lenient Java UUID forms', () => {
    expect(
      validateSbd(
        withHeader('arkivmelding', (h) => (h.documentIdentification.instanceIdentifier = '1-1-1-1-1')),
        NOW,
      ),
    ).toEqual([])
  })

  it('reports a null type twice (NotNull and MessageType) and an unknown one once', () => {
    // the business message first lets the header type be anything
    const json = sbdJson('arkivmelding')
    const h = json.standardBusinessDocumentHeader as Record<string, Json>
    h.documentIdentification.type = 'strange'
    const strange = validateSbd(parseSbd({ arkivmelding: {}, standardBusinessDocumentHeader: h }), NOW)
    expect(strange.map((e) => [e.code, e.defaultMessage, e.rejectedValue])).toEqual([
      ['MessageType', 'Must be a NextMove message type', 'strange'],
    ])
    delete h.documentIdentification.type
    const none = validateSbd(parseSbd({ arkivmelding: {}, standardBusinessDocumentHeader: h }), NOW)
    expect(none.map((e) => e.code)).toEqual(['NotNull', 'MessageType'])
  })

  it('checks scopes: type names, ConversationId UUIDs, the future TTL', () => {
    const errors = validateSbd(
      withHeader('arkivmelding', (h) => {
        h.businessScope.scope[0].instanceIdentifier = 'not-a-uuid'
        h.businessScope.scope[0].scopeInformation[0].expectedResponseDateTime = '2026-01-15T12:00:00+01:00'
        h.businessScope.scope.push(
          { type: 'Strange', instanceIdentifier: 'x' },
          { type: 'SenderRef', instanceIdentifier: 'free text' },
        )
      }),
      NOW,
    )
    expect(errors.map((e) => [e.field, e.code, e.defaultMessage])).toEqual([
      [
        `${H}.businessScope.scope[]`,
        'SbdScopeConditionalInstanceIdentifierUuid',
        "'not-a-uuid' is not a UUID.",
      ],
      [
        `${H}.businessScope.scope[].scopeInformation[].expectedResponseDateTime`,
        'Future',
        'must be a future date',
      ],
      [
        `${H}.businessScope.scope[].type`,
        'OneOf',
        "'Strange' is not expected. Allowed values are: [JournalpostId, ConversationId, ParentId, SenderRef, ReceiverRef, MessageChannel]",
      ],
    ])
    expect(errors[0]!.rejectedValue).toMatchObject({
      type: 'ConversationId',
      instanceIdentifier: 'not-a-uuid',
    })
    expect(errors[1]!.rejectedValue).toBe('2026-01-15T12:00:00+01:00')
  })

  it('takes a time one millisecond ahead as future', () => {
    const sbd = withHeader(
      'arkivmelding',
      (h) =>
        (h.businessScope.scope[0].scopeInformation[0].expectedResponseDateTime =
          '2026-01-15T12:00:00.001+01:00'),
    )
    expect(validateSbd(sbd, NOW)).toEqual([])
  })

  it('requires a businessScope with at least one scope', () => {
    expect(
      validateSbd(
        withHeader('arkivmelding', (h) => delete h.businessScope),
        NOW,
      ).map((e) => e.field),
    ).toEqual([`${H}.businessScope`])
    const empty = validateSbd(
      withHeader('arkivmelding', (h) => (h.businessScope.scope = [])),
      NOW,
    )
    expect(empty.map((e) => [e.code, e.defaultMessage])).toEqual([
      ['Size', 'size must be between 1 and 2147483647'],
    ])
    const none = validateSbd(
      withHeader('arkivmelding', (h) => (h.businessScope = {})),
      NOW,
    )
    expect(none.map((e) => [e.field, e.code])).toEqual([[`${H}.businessScope.scope`, 'NotNull']])
  })

  it('checks the manifest when there is one', () => {
    const errors = validateSbd(
      withHeader('arkivmelding', (h) => (h.manifest = { numberOfItems: 0 })),
      NOW,
    )
    expect(errors.map((e) => [e.field, e.code, e.defaultMessage])).toEqual([
      [`${H}.manifest.manifestItem`, 'NotEmpty', 'must not be empty'],
    ])
  })

  it('counts errors in the message', () => {
    expect(VALIDATION_FAILED_MESSAGE(2)).toBe(
      "Validation failed for object='standardBusinessDocument'. Error count: 2",
    )
    const error = methodArgumentNotValid(
      validateSbd(
        withHeader('arkivmelding', (h) => delete h.headerVersion),
        NOW,
      ),
    )
    expect(error.exception).toBe('org.springframework.web.bind.MethodArgumentNotValidException')
    expect(error.message).toBe("Validation failed for object='standardBusinessDocument'. Error count: 1")
  })
})

describe('validateForService and method validation (ConstraintViolation shape)', () => {
  it('reports the header constraints with the annotation name as code and the path as field', () => {
    const errors = validateForService(
      withHeader('arkivmelding', (h) => delete h.headerVersion),
      'DPO',
      NOW,
    )
    expect(errors).toEqual([
      {
        codes: ['NotNull'],
        defaultMessage: 'must not be null',
        objectName: `${H}.headerVersion`,
        field: `${H}.headerVersion`,
        rejectedValue: null,
        bindingFailure: false,
        code: 'NotNull',
      },
    ])
    const param = validateSbdAsParameter(
      withHeader('arkivmelding', (h) => delete h.headerVersion),
      'createAndSendMessage.sbd.',
      NOW,
    )
    expect(param[0]!.field).toBe(`createAndSendMessage.sbd.${H}.headerVersion`)
  })

  it('mirrors the reference’s leniency: other business messages’ @NotNull fields are not enforced', () => {
    expect(validateForService(parseSbd(sbdJson('digital', {})), 'DPI', NOW)).toEqual([])
    expect(validateForService(parseSbd(sbdJson('innsynskrav', {})), 'DPE', NOW)).toEqual([])
  })

  it('validates the DPH business message', () => {
    const sbd = withHeader('dialogmelding', () => {}, {
      pasient: { fnr: '08089409381', fornavn: '' },
      metadataFiler: { 'a.pdf': null },
    })
    const errors = validateForService(sbd, 'DPH', NOW)
    expect(errors.map((e) => [e.objectName, e.field, e.code])).toEqual([
      ['pasient.fnr', 'pasient.fnr', 'PersonIdentifier'],
      ['pasient.fornavn', 'pasient.fornavn', 'NotEmpty'],
      ['pasient.etternavn', 'pasient.etternavn', 'NotNull'],
      ['pasient.etternavn', 'pasient.etternavn', 'NotEmpty'],
      ['metadataFiler[a.pdf]', 'metadataFiler[a.pdf].<map value>', 'NotNull'],
    ])
    const ok = withHeader('dialogmelding', () => {}, {
      pasient: { fnr: FNR, fornavn: 'Kari', etternavn: 'Nordmann' },
    })
    expect(validateForService(ok, 'DPH', NOW)).toEqual([])
    expect(validateBusinessMessage(withHeader('dialogmelding', () => {}))[0]!.field).toBe('pasient')
  })

  it('reports only the header when both fail, as the reference stops at the first group', () => {
    const sbd = withHeader('dialogmelding', (h) => delete h.headerVersion)
    expect(validateForService(sbd, 'DPH', NOW).map((e) => e.field)).toEqual([`${H}.headerVersion`])
  })
})
