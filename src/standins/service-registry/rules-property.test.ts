import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CatalogueError } from './catalog-load.js'
import { SrError } from './errors.js'
import { DEFAULT_PROCESSES, DOCUMENT_TYPE } from './processes.js'
import type { Json } from './records.js'
import { lookupIdentifier } from './rules.js'
import { catalogueOf, testCertificatePem } from './test-support.js'

const ORGS = ['910075918', '910077473', '910076787', '910229028', '910094092', '910094548']
const PERSONS = ['01819040180', '15857540015', '24816040074', '03909940094', '11720340021']
const ids = (category: string) =>
  DEFAULT_PROCESSES.filter((p) => p.category === category).map((p) => p.identifier)
const DPO_PROCESSES = [...ids('ARKIVMELDING'), ...ids('AVTALT')]
const ALL_PROCESSES = DEFAULT_PROCESSES.map((p) => p.identifier)

const organisation = (orgnr: string, i: number) =>
  fc
    .record({
      dpo: fc.subarray(DPO_PROCESSES),
      dpe: fc.subarray(ids('EINNSYN')),
      dpf: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { minLength: 1 }), { nil: undefined }),
      dpv: fc.option(fc.record({ resource: fc.option(fc.string({ minLength: 1 })) }), { nil: undefined }),
      herId: fc.option(fc.constant(100 + i), { nil: undefined }),
    })
    .map((o) => ({
      orgnr,
      name: `ORG ${i}`,
      certificate: testCertificatePem(),
      ...(o.dpo.length > 0 && { DPO: { processes: o.dpo } }),
      ...(o.dpe.length > 0 && { DPE: { processes: o.dpe } }),
      ...(o.dpf && { DPF: { securityLevels: o.dpf } }),
      ...(o.dpv && { DPV: o.dpv }),
      ...(o.herId && { DPH: { herId: o.herId } }),
    }))

const person = (fnr: string) =>
  fc
    .record({
      reserved: fc.boolean(),
      notifiable: fc.boolean(),
      status: fc.constantFrom('AKTIV', 'SLETTET'),
      mailbox: fc.boolean(),
      address: fc.boolean(),
    })
    .map((p) => ({
      fnr,
      name: { first: 'A', last: 'B' },
      reserved: p.reserved,
      notifiable: p.notifiable,
      status: p.status,
      ...(p.mailbox && { mailbox: { provider: ORGS[0], address: `${fnr}#1` } }),
      ...(p.address && { address: { street: 'Gata 1', postalCode: '0001', postalArea: 'OSLO' } }),
    }))

const catalogueJson = fc
  .tuple(
    fc.tuple(...ORGS.map(organisation)),
    fc.subarray(PERSONS.slice(0, 4)).chain((fnrs) => fc.tuple(...fnrs.map(person))),
  )
  .map(([organisations, persons]) => ({
    settings: {
      defaultSender: ORGS[0],
      dpi: { printProvider: ORGS[0] },
      dpf: { certificate: testCertificatePem() },
    },
    organisations,
    persons,
  }))

const lookup = fc.record({
  identifier: fc.oneof(
    fc.constantFrom(...ORGS, ...PERSONS, 'her-id:100', 'her-id:101', '974720760'),
    fc.string(),
  ),
  process: fc.option(fc.oneof(fc.constantFrom(...ALL_PROCESSES), fc.string())),
  securityLevel: fc.constantFrom(null, -1, 0, 1, 2, 3, 4, 5, 2147483647),
  print: fc.boolean(),
  beta: fc.boolean(),
  consumer: fc.constantFrom(null, ORGS[1]!, '974720760'),
})

describe('the rules, on any catalogue and any lookup', () => {
  it('answer records that keep the reference’s promises, or a 400/404', async () => {
    await fc.assert(
      fc.asyncProperty(
        catalogueJson,
        fc.array(lookup, { minLength: 1, maxLength: 15 }),
        async (json, lookups) => {
          const cat = await catalogueOf(json).catch((err: unknown) => {
            throw err instanceof CatalogueError
              ? new Error(`generated an invalid catalogue: ${err.message}`)
              : err
          })
          for (const q of lookups) {
            let answer: Json
            try {
              answer = lookupIdentifier(cat, q)
            } catch (err) {
              if (!(err instanceof SrError)) throw err
              expect([400, 404]).toContain(err.status)
              continue
            }
            const org = json.organisations.find((o) => q.identifier === o.orgnr)
            for (const r of answer.serviceRecords as Json[]) {
              const service = (r.service as Json).identifier as string
              expect(['DPO', 'DPV', 'DPF', 'DPI', 'DPE', 'DPH']).toContain(service)
              if (q.process !== null) expect(r.process).toBe(q.process)
              // no DPV fallback for arkivmelding at level 4 (a person's digital post ignores the level, as in the reference)
              const digitalPost = (r.documentTypes as string[]).includes(DOCUMENT_TYPE.digitalDpv)
              if (q.securityLevel === 4 && !digitalPost) expect(service).not.toBe('DPV')
              if (org && service === 'DPO') expect(org.DPO?.processes).toContain(r.process)
              if (org && service === 'DPE') expect(org.DPE?.processes).toContain(r.process)
              if (service === 'DPF')
                expect(org?.DPF?.securityLevels).toContain((r.service as Json).securityLevel)
              if (service !== 'DPV') expect(r.pemCertificate).toBe(testCertificatePem())
            }
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})
