import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DpeRoutingError,
  kvitteringQueue,
  ownQueue,
  queueFor,
  SERVICE_BUS_MODES,
  statusQueue,
  targetQueue,
} from './queues.js'

const AGENCY = '0192:910075935'
const EINNSYN = '0192:991825827'

describe("the queues of the reference's ServiceBusUtil", () => {
  it('reads nextbestqueue<orgnr><mode>', () => {
    expect(ownQueue('910075935', 'innsyn')).toBe('nextbestqueue910075935innsyn')
    expect(ownQueue('0192:991825827', 'meeting')).toBe('nextbestqueue991825827meeting')
  })

  it('writes a business message to the receiver bare orgnr and its record suffix', () => {
    expect(targetQueue(AGENCY, 'innsyn')).toBe('nextbestqueue910075935innsyn')
    expect(targetQueue(EINNSYN, 'data')).toBe('nextbestqueue991825827data')
    expect(targetQueue('991825827', 'meeting')).toBe('nextbestqueue991825827meeting')
  })

  it('refuses a record without endpointUrl, as the reference', () => {
    for (const empty of [null, undefined, '', '  '])
      expect(() => targetQueue(AGENCY, empty)).toThrow(/no endpointUrl.*not set up for this process/)
  })

  it('refuses a suffix that would change the path, and a receiver that is no organisation', () => {
    expect(() => targetQueue(AGENCY, 'innsyn/../x')).toThrow(DpeRoutingError)
    expect(() => targetQueue('0192:9100759', 'innsyn')).toThrow('organisations only')
    expect(() => targetQueue('01017012345', 'innsyn')).toThrow('organisations only')
  })

  it('sends status from an agency to data, from eInnsyn to innsyn', () => {
    expect(statusQueue(EINNSYN, 'innsyn', null)).toBe('nextbestqueue991825827data')
    expect(statusQueue(AGENCY, 'data', null)).toBe('nextbestqueue910075935innsyn')
    expect(statusQueue(AGENCY, 'meeting', null)).toBe('nextbestqueue910075935innsyn')
  })

  it('sends einnsyn_kvittering to data for an innsynskrav, else to innsyn', () => {
    expect(kvitteringQueue(EINNSYN, 'innsynskrav', null)).toBe('nextbestqueue991825827data')
    expect(kvitteringQueue(EINNSYN, 'INNSYNSKRAV', null)).toBe('nextbestqueue991825827data')
    expect(kvitteringQueue(AGENCY, 'publisering', null)).toBe('nextbestqueue910075935innsyn')
  })

  it('lets receiptQueue replace the suffix of both status and einnsyn_kvittering, not of business messages', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SERVICE_BUS_MODES),
        fc.constantFrom('innsynskrav', 'publisering'),
        fc.stringMatching(/^[a-z0-9]{1,12}$/),
        (mode, referanseType, receiptQueue) => {
          const settings = { mode, receiptQueue }
          const want = `nextbestqueue991825827${receiptQueue}`
          return (
            queueFor({ type: 'status', receiver: EINNSYN }, settings) === want &&
            queueFor({ type: 'einnsyn_kvittering', receiver: EINNSYN, referanseType }, settings) === want &&
            queueFor({ type: 'publisering', receiver: EINNSYN, endpointUrl: 'data' }, settings) ===
              'nextbestqueue991825827data'
          )
        },
      ),
    )
    expect(() => statusQueue(EINNSYN, 'innsyn', 'da ta')).toThrow(/receiptQueue must be a queue suffix/)
  })

  it('gives the traffic between an agency and eInnsyn', () => {
    const agency = { mode: 'innsyn' as const, receiptQueue: null }
    const einnsynData = { mode: 'data' as const, receiptQueue: null }
    // eInnsyn → agency: innsynskrav; agency → eInnsyn: status for it, publisering
    expect(queueFor({ type: 'innsynskrav', receiver: AGENCY, endpointUrl: 'innsyn' }, einnsynData)).toBe(
      ownQueue(AGENCY, 'innsyn'),
    )
    expect(queueFor({ type: 'status', receiver: EINNSYN }, agency)).toBe(ownQueue(EINNSYN, 'data'))
    expect(queueFor({ type: 'publisering', receiver: EINNSYN, endpointUrl: 'meeting' }, agency)).toBe(
      ownQueue(EINNSYN, 'meeting'),
    )
    // eInnsyn → agency: status for a publisering, einnsyn_kvittering for it
    expect(queueFor({ type: 'status', receiver: AGENCY }, einnsynData)).toBe(ownQueue(AGENCY, 'innsyn'))
    expect(
      queueFor({ type: 'einnsyn_kvittering', receiver: AGENCY, referanseType: 'publisering' }, einnsynData),
    ).toBe(ownQueue(AGENCY, 'innsyn'))
  })
})
