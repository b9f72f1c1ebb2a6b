import { describe, expect, it } from 'vitest'
import { FINAL_STATUSES, isFinalStatus } from './statuses.js'

describe('isFinalStatus', () => {
  it('ends every timeline at LEST, FEIL, LEVETID_UTLOPT and INNKOMMENDE_LEVERT', () => {
    for (const s of FINAL_STATUSES) expect(isFinalStatus(s, { serviceIdentifier: 'DPV' })).toBe(true)
    for (const s of ['OPPRETTET', 'SENDT', 'MOTTATT', 'ANNET', 'INNKOMMENDE_MOTTATT'])
      expect(isFinalStatus(s)).toBe(false)
  })

  it('ends at LEVERT unless a LEST normally follows: an arkivmelding, or anything by DPV', () => {
    const arkivmelding = 'urn:no:difi:arkivmelding:xsd::arkivmelding'
    expect(isFinalStatus('LEVERT', { serviceIdentifier: 'DPO', documentIdentifier: arkivmelding })).toBe(
      false,
    )
    expect(isFinalStatus('LEVERT', { serviceIdentifier: 'DPF', documentIdentifier: arkivmelding })).toBe(
      false,
    )
    expect(isFinalStatus('LEVERT', { serviceIdentifier: 'DPV', documentIdentifier: 'x::digital_dpv' })).toBe(
      false,
    )
    expect(
      isFinalStatus('LEVERT', {
        serviceIdentifier: 'DPO',
        documentIdentifier: 'urn:no:difi:avtalt:xsd::avtalt',
      }),
    ).toBe(true)
    expect(isFinalStatus('LEVERT', { serviceIdentifier: 'DPI', documentIdentifier: 'x::digital' })).toBe(true)
    expect(isFinalStatus('LEVERT', { serviceIdentifier: 'DPE', documentIdentifier: 'x::innsynskrav' })).toBe(
      true,
    )
    expect(isFinalStatus('LEVERT')).toBe(true)
  })
})
