import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { IntegrasjonspunktClient } from './client.js'
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

const ARKIVMELDING = 'urn:no:difi:arkivmelding:xsd::arkivmelding'

describe('followStatuses', () => {
  let server: Server | undefined
  afterEach(async () => {
    server?.closeAllConnections()
    await new Promise((r) => server?.close(r) ?? r(undefined))
  })

  /** An integration point whose message gains one status per poll; `finished` as the API says it. */
  async function serve(timeline: string[], finishedAt: string | null) {
    let polls = 0
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x')
      const shown = timeline.slice(0, Math.min(polls + 1, timeline.length))
      res.setHeader('content-type', 'application/json')
      if (url.pathname === '/api/conversations') {
        const finished = finishedAt !== null && shown.includes(finishedAt)
        const content =
          finishedAt === null
            ? []
            : [{ messageId: 'm', serviceIdentifier: 'DPO', documentIdentifier: ARKIVMELDING, finished }]
        return res.end(JSON.stringify({ content, last: true }))
      }
      polls++
      const content = shown.map((status, i) => ({ id: i + 1, messageId: 'm', status }))
      res.end(JSON.stringify({ content, last: true }))
    })
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    return new IntegrasjonspunktClient({ url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}` })
  }

  const follow = async (client: IntegrasjonspunktClient, until?: string[]) => {
    const seen: string[] = []
    for await (const s of client.followStatuses('m', { intervalMs: 1, ...(until && { until }) }))
      seen.push(s.status)
    return seen
  }

  it('ends when the conversation is finished, though a LEST could still come', async () => {
    const client = await serve(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'], 'LEVERT')
    expect(await follow(client)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
  })

  it('goes on to what --until asks for', async () => {
    const client = await serve(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'], 'LEVERT')
    expect(await follow(client, ['LEST'])).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'])
  })

  it('falls back to the final statuses where no conversation can be asked', async () => {
    const client = await serve(['OPPRETTET', 'SENDT', 'FEIL', 'ANNET'], null)
    expect(await follow(client)).toEqual(['OPPRETTET', 'SENDT', 'FEIL'])
  })
})
