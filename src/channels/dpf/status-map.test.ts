import { describe, expect, it } from 'vitest'
import { svarUtStatusUpdate } from './status-map.js'

describe('a SvarUt status', () => {
  it('is LEST when the receiver has read it, which ends polling', () => {
    expect(svarUtStatusUpdate('LEST')).toEqual({ status: 'LEST', final: true })
  })

  it('is FEIL with the reason when SvarUt could not deliver it', () => {
    for (const status of ['AVVIST', 'IKKE_LEVERT', 'FEILET_UNDER_MOTTAK']) {
      const update = svarUtStatusUpdate(status)
      expect(update).toMatchObject({ status: 'FEIL', final: true })
      expect(update?.description).toMatch(new RegExp(`^SvarUt: ${status}: \\S`))
    }
  })

  it('is ANNET with a description when it went to print, polled on until printed', () => {
    expect(svarUtStatusUpdate('SENDT_PRINT')).toMatchObject({ status: 'ANNET', final: false })
    expect(svarUtStatusUpdate('PRINTET')).toMatchObject({ status: 'ANNET', final: true })
    expect(svarUtStatusUpdate('PRINTET')?.description).toMatch(/^SvarUt: PRINTET: /)
    expect(svarUtStatusUpdate('MANUELT_HANDTERT')).toMatchObject({ status: 'ANNET', final: true })
  })

  it('says nothing new on the way there, nor for a status SvarUt adds later', () => {
    const quiet = [
      'MOTTATT',
      'AKSEPTERT',
      'KLAR_FOR_MOTTAK',
      'VARSLET',
      'SENDT_DIGITALT',
      'SENDT_SDP',
      'LEVERT_SDP',
      'SENDT_NHN_MOTTAKER',
      'LEVERT_NHN_MOTTAKER',
      'NY_STATUS',
    ]
    expect(quiet.map(svarUtStatusUpdate)).toEqual(quiet.map(() => null))
  })
})
