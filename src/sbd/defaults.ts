/**
 * What the reference fills in on create (`OnBehalfOfNormalizer`, `NextMoveOutMessageFactory.setDefaults`),
 * as pure functions returning a new SBD.
 */
import { formatOslo } from '../util/time.js'
import { getScope, getSender } from './accessors.js'
import { authorityOf, NO_ORG_ICD, onBehalfOf } from './identifiers.js'
import { hasText, isNullOrEmpty, javaSplit } from './java.js'
import type { Partner, ServiceIdentifier, StandardBusinessDocument } from './types.js'
import { ISO6523_ACTORID_UPIS } from './types.js'

export interface ServiceRecordAddress {
  name?: string | null
  street?: string | null
  postalCode?: string | null
  postalArea?: string | null
  country?: string | null
}

export interface ServiceRecordPatient {
  fnr?: string | null
  firstName?: string | null
  middleName?: string | null
  lastName?: string | null
}

export interface DefaultsContext {
  ownOrg: string
  now: Date
  /** the resolved service's default TTL (difi.move.<service>.default-ttl-hours) */
  ttlHours: number
  serviceIdentifier: ServiceIdentifier
  /** difi.move.dpo.message-channel */
  messageChannel: string | null
  newUuid: () => string
  /** the receiver's service record: print addresses (DPI) and the patient (DPH fastlege-for) */
  serviceRecord?: {
    postAddress?: ServiceRecordAddress | null
    returnAddress?: ServiceRecordAddress | null
    patient?: ServiceRecordPatient | null
  }
}

const copy = <T>(value: T): T => structuredClone(value)

function partner(value: string, authority: string): Partner {
  return { identifier: { value, authority } }
}

/**
 * "På vegne av": a sender `0192:<X>` with X not our own organisation and no part is rewritten to
 * `0192:<own>:<X>` (the reference replaces the whole sender, dropping contact information). A sender that
 * is not ISO 6523, already has a part, or is our own organisation stays as it is.
 */
export function normalizeOnBehalfOf(sbd: StandardBusinessDocument, ownOrg: string): StandardBusinessDocument {
  const sender = getSender(sbd)
  if (sender?.kind !== 'iso6523' || sender.part !== null || sender.organization === ownOrg) return sbd
  const rewritten = onBehalfOf(sender.icd, ownOrg, sender.organization)
  if (rewritten === undefined) return sbd
  const out = copy(sbd)
  out.standardBusinessDocumentHeader.sender = [partner(rewritten.value, authorityOf(rewritten))]
  return out
}

function hasSenderIdentifier(sbd: StandardBusinessDocument): boolean {
  return typeof sbd.standardBusinessDocumentHeader.sender?.[0]?.identifier?.value === 'string'
}

function setExpectedResponseDateTime(sbd: StandardBusinessDocument, ctx: DefaultsContext): void {
  const scope = getScope(sbd, 'CONVERSATION_ID')
  // the reference throws "Missing conversation ID scope!" (500); checkProcess() runs before this
  if (!scope || scope.scopeInformation?.[0]?.expectedResponseDateTime) return
  const ttl = formatOslo(ctx.now.getTime() + ctx.ttlHours * 3_600_000)
  if (!scope.scopeInformation || scope.scopeInformation.length === 0) {
    scope.scopeInformation = [{ expectedResponseDateTime: ttl }]
  } else {
    scope.scopeInformation[0]!.expectedResponseDateTime = ttl
  }
}

function setMessageChannel(sbd: StandardBusinessDocument, ctx: DefaultsContext): void {
  if (ctx.serviceIdentifier !== 'DPO' || isNullOrEmpty(ctx.messageChannel)) return
  const scope = getScope(sbd, 'MESSAGE_CHANNEL')
  if (scope === undefined) {
    // sbd.addScope only adds when there is a businessScope
    sbd.standardBusinessDocumentHeader.businessScope?.scope?.push({
      type: 'MessageChannel',
      instanceIdentifier: ctx.newUuid(),
      identifier: ctx.messageChannel,
    })
  } else if (isNullOrEmpty(scope.identifier)) {
    scope.identifier = ctx.messageChannel
  }
}

function setDphDefaults(sbd: StandardBusinessDocument, ctx: DefaultsContext): void {
  const scope = getScope(sbd, 'CONVERSATION_ID')
  // DPH: the conversation is named after its first message
  if (scope && (scope.instanceIdentifier === null || scope.instanceIdentifier === undefined)) {
    scope.instanceIdentifier =
      sbd.standardBusinessDocumentHeader.documentIdentification?.instanceIdentifier ?? null
  }
  const receiver = sbd.standardBusinessDocumentHeader.receiver?.[0]?.identifier
  const patient = ctx.serviceRecord?.patient
  if (
    sbd.type === 'dialogmelding' &&
    patient &&
    typeof receiver?.value === 'string' &&
    receiver.value.startsWith('fastlege-for:')
  ) {
    sbd.businessMessage.pasient = dropNulls({
      fnr: patient.fnr,
      fornavn: patient.firstName,
      mellomnavn: patient.middleName,
      etternavn: patient.lastName,
    })
  }
}

function dropNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined))
}

/** `setReceiverDefaults`: blank fields from the service record; `street` is split on `;` into the lines. */
function fillAddress(target: Record<string, unknown>, from: ServiceRecordAddress | null | undefined): void {
  if (!from) return
  const fill = (key: string, value: string | null | undefined) => {
    if (!hasText(target[key] as string | undefined) && value !== null && value !== undefined)
      target[key] = value
  }
  fill('navn', from.name)
  if (isNullOrEmpty(target.adresselinje1 as string | undefined) && typeof from.street === 'string') {
    javaSplit(from.street, ';')
      .slice(0, 4)
      .forEach((line, i) => {
        target[`adresselinje${i + 1}`] = line
      })
  }
  fill('postnummer', from.postalCode)
  fill('poststed', from.postalArea)
  fill('land', from.country)
}

function setPrintDefaults(sbd: StandardBusinessDocument, ctx: DefaultsContext): void {
  const bm = sbd.businessMessage
  bm.utskriftsfarge ??= 'SORT_HVIT'
  bm.posttype ??= 'B_OEKONOMI'
  if (!hasReceiver(sbd)) return
  bm.mottaker ??= {}
  bm.retur ??= { mottaker: {}, returhaandtering: 'DIREKTE_RETUR' }
  const retur = bm.retur as Record<string, unknown>
  retur.mottaker ??= {}
  fillAddress(bm.mottaker as Record<string, unknown>, ctx.serviceRecord?.postAddress)
  fillAddress(retur.mottaker as Record<string, unknown>, ctx.serviceRecord?.returnAddress)
}

function hasReceiver(sbd: StandardBusinessDocument): boolean {
  return typeof sbd.standardBusinessDocumentHeader.receiver?.[0]?.identifier?.value === 'string'
}

/**
 * The create-time defaults, in the reference's order: sender, messageId, creation time, time to
 * live, DPH conversation id, every empty scope id, DPO message channel, DPI print settings. Pure.
 */
export function applyDefaults(sbd: StandardBusinessDocument, ctx: DefaultsContext): StandardBusinessDocument {
  const out = copy(sbd)
  const header = out.standardBusinessDocumentHeader
  if (!hasSenderIdentifier(out)) {
    header.sender = [...(header.sender ?? []), partner(`${NO_ORG_ICD}:${ctx.ownOrg}`, ISO6523_ACTORID_UPIS)]
  }
  const di = header.documentIdentification
  if (di) {
    di.instanceIdentifier ??= ctx.newUuid()
    di.creationDateAndTime ??= formatOslo(ctx.now)
  }
  setExpectedResponseDateTime(out, ctx)
  if (ctx.serviceIdentifier === 'DPH') setDphDefaults(out, ctx)
  for (const scope of header.businessScope?.scope ?? []) {
    if (!hasText(scope.instanceIdentifier)) scope.instanceIdentifier = ctx.newUuid()
  }
  setMessageChannel(out, ctx)
  if (ctx.serviceIdentifier === 'DPI' && out.type === 'print') setPrintDefaults(out, ctx)
  return out
}
