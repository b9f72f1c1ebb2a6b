/**
 * The process and document-type catalogue the stand-in ships with, and the defaults of its settings.
 *
 * The reference keeps its catalogue in a database that is not published; this is our reconstruction
 * from Digdir's eFormidling documentation and the reference's configuration and tests
 * (docs/service-registry-standin.md, "Built-in processes"). Where no source gives a value we chose, and
 * say so:
 * - DPV Altinn 3 resources: `eformidling-dpv-administrasjon` for every arkivmelding process except
 *   `taushetsbelagt` (`eformidling-dpv-taushetsbelagt`), as the reference's Altinn 3 notes decide (MOVE-4615).
 * - `taushetsbelagt` has no known Altinn 2 edition code: null.
 * - the two `…:response:ver1.0` processes of arkivmelding and avtalt are filed under AVTALT, so they are
 *   offered only to organisations registered for them (DPO), never as a DPV or DPF fallback (no
 *   reference answer shows a DPV or DPF record for a response process).
 * - the digitalpost processes list `digital_dpv` too, so the document type exists in the catalogue
 *   (the reference finds it by suffix among all document types).
 */

export const CATEGORIES = ['ARKIVMELDING', 'AVTALT', 'EINNSYN', 'DIGITALPOST', 'DIALOGMELDING'] as const
export type ProcessCategory = (typeof CATEGORIES)[number]

export interface ProcessDef {
  identifier: string
  category: ProcessCategory
  documentTypes: string[]
  /** DPV: Altinn 2 service code; EINNSYN: the DPE queue suffix (`innsyn`, `data`, `meeting`) */
  serviceCode: string | null
  serviceEditionCode: string | null
  /** DPV: the Altinn 3 resource */
  resource: string | null
}

const PROFILE = 'urn:no:difi:profile'
const ARKIVMELDING_DOC = 'urn:no:difi:arkivmelding:xsd::arkivmelding'
const STATUS = 'urn:no:difi:eformidling:xsd::status'
const FEIL = 'urn:no:difi:eformidling:xsd::feil'
const PUBLISERING = 'urn:no:difi:einnsyn:xsd::publisering'

export const DOCUMENT_TYPE = {
  digital: 'urn:no:difi:digitalpost:xsd:digital::digital',
  digitalDpv: 'urn:no:difi:digitalpost:xsd:digital::digital_dpv',
  print: 'urn:no:difi:digitalpost:xsd:fysisk::print',
} as const

function process(
  identifier: string,
  category: ProcessCategory,
  documentTypes: string[],
  codes: Partial<Pick<ProcessDef, 'serviceCode' | 'serviceEditionCode' | 'resource'>> = {},
): ProcessDef {
  return {
    identifier,
    category,
    documentTypes,
    serviceCode: codes.serviceCode ?? null,
    serviceEditionCode: codes.serviceEditionCode ?? null,
    resource: codes.resource ?? null,
  }
}

/** An arkivmelding process with its DPV (Altinn) codes. */
function arkivmelding(name: string, edition: string | null, resource = 'eformidling-dpv-administrasjon') {
  return process(`${PROFILE}:arkivmelding:${name}:ver1.0`, 'ARKIVMELDING', [ARKIVMELDING_DOC], {
    serviceCode: '4255',
    serviceEditionCode: edition,
    resource,
  })
}

const DIGITALPOST_DOCS = [DOCUMENT_TYPE.digital, DOCUMENT_TYPE.print, DOCUMENT_TYPE.digitalDpv]

export const DEFAULT_PROCESSES: readonly ProcessDef[] = [
  arkivmelding('administrasjon', '10'),
  arkivmelding('planByggOgGeodata', '1'),
  arkivmelding('helseSosialOgOmsorg', '2'),
  arkivmelding('oppvekstOgUtdanning', '3'),
  arkivmelding('kulturIdrettOgFritid', '4'),
  arkivmelding('trafikkReiserOgSamferdsel', '5'),
  arkivmelding('naturOgMiljoe', '6'),
  arkivmelding('naeringsutvikling', '7'),
  arkivmelding('skatterOgAvgifter', '8'),
  arkivmelding('tekniskeTjenester', '9'),
  arkivmelding('taushetsbelagt', null, 'eformidling-dpv-taushetsbelagt'),
  process(`${PROFILE}:arkivmelding:response:ver1.0`, 'AVTALT', [
    'urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering',
    'urn:no:difi:arkivmelding:xsd::status',
    'urn:no:difi:arkivmelding:xsd::feil',
  ]),
  process(`${PROFILE}:avtalt:avtalt:ver1.0`, 'AVTALT', ['urn:no:difi:avtalt:xsd::avtalt']),
  process(`${PROFILE}:avtalt:response:ver1.0`, 'AVTALT', [STATUS, FEIL]),
  process(`${PROFILE}:einnsyn:innsynskrav:ver1.0`, 'EINNSYN', ['urn:no:difi:einnsyn:xsd::innsynskrav'], {
    serviceCode: 'innsyn',
  }),
  process(`${PROFILE}:einnsyn:journalpost:ver1.0`, 'EINNSYN', [PUBLISERING], { serviceCode: 'data' }),
  process(`${PROFILE}:einnsyn:meeting:ver1.0`, 'EINNSYN', [PUBLISERING], { serviceCode: 'meeting' }),
  process(
    `${PROFILE}:einnsyn:response:ver1.0`,
    'EINNSYN',
    ['urn:no:difi:einnsyn:xsd::einnsyn_kvittering', STATUS, FEIL],
    { serviceCode: 'innsyn' },
  ),
  process(`${PROFILE}:digitalpost:info:ver1.0`, 'DIGITALPOST', DIGITALPOST_DOCS),
  process(`${PROFILE}:digitalpost:vedtak:ver1.0`, 'DIGITALPOST', DIGITALPOST_DOCS),
  process(`${PROFILE}:helse:helse:ver1.0`, 'DIALOGMELDING', ['urn:no:difi:helse:xsd:schema::dialogmelding']),
  process(`${PROFILE}:helse:response:ver1.0`, 'DIALOGMELDING', [
    'urn:no:difi:helse:xsd::dialogmelding_kvittering',
    STATUS,
    FEIL,
  ]),
]

/** The reference's `application.yml` values (test environment), which a catalogue may override. */
export const DEFAULT_SETTINGS = {
  defaultArkivmeldingProcess: `${PROFILE}:arkivmelding:administrasjon:ver1.0`,
  /** `difi.move.feature.enable-dpf-dpv`: offer DPF/DPV to organisations not registered for DPO */
  enableDpfDpv: true,
  dpo: {
    endpointUrl: 'https://tt02.altinn.no',
    serviceCode: '4192',
    serviceEditionCode: '270815',
    resource: null as string | null,
  },
  dpv: {
    endpointUrl: 'https://tt02.altinn.no/ServiceEngineExternal/CorrespondenceAgencyExternal.svc',
  },
  dpf: {
    endpointUrl: 'https://test.svarut.ks.no/tjenester/forsendelseservice/ForsendelsesServiceV6',
  },
  dpi: {
    endpointUrl: 'https://qaoffentlig.meldingsformidler.digipost.no/api/ebms',
    infoProcess: `${PROFILE}:digitalpost:info:ver1.0`,
    vedtakProcess: `${PROFILE}:digitalpost:vedtak:ver1.0`,
  },
  dph: {
    enabled: true,
    // as the reference: the template itself, not expanded
    endpointUrl: 'https://test.eformidling.no/nhn-adapter/api/lookup/{identifier}',
    process: `${PROFILE}:helse:helse:ver1.0`,
  },
  dpe: {
    // difi.move.nextmove.serviceBus.sasKeyName of the reference's test environment
    sasKeyName: 'MoveDPE-pilotPolicy',
  },
}
