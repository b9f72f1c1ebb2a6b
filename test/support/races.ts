// Helpers for the tests of requests racing on one outgoing message (issue 13 item 7).

import { request } from 'node:http'
import { expect } from 'vitest'
import type { Db } from '../../src/db/open.js'
import { jsonBody } from './ip.js'
import { eventually, json } from './poll.js'

export type Json = Record<string, any>

/** A PUT whose body the test holds open: `write` sends some, `finish` the rest and awaits the answer. */
export function openUpload(base: string, messageId: string, filename: string) {
  const req = request(`${base}/api/messages/out/${messageId}`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/pdf',
      'content-disposition': `attachment; filename=${filename}`,
      'transfer-encoding': 'chunked',
    },
  })
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
  })
  return {
    write: (chunk: string) => req.write(chunk),
    finish: async (rest: string) => {
      req.end(rest)
      return answer
    },
    /** the answer, without sending the rest of the body */
    answer,
  }
}

export const uploadsOf = (db: Db) => db.kysely.selectFrom('out_uploads').selectAll().execute()

export async function createAt(base: string, sbd: Json): Promise<string> {
  const res = await json(`${base}/api/messages/out`, jsonBody(sbd))
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
}

export async function putAt(base: string, id: string, filename: string, body: string) {
  const res = await fetch(`${base}/api/messages/out/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename=${filename}` },
    body,
  })
  expect(res.status, await res.text()).toBe(200)
}

export function expect409(res: { status: number; body: Json }, exception: string, path: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(409)
  expect(res.body).toMatchObject({ status: 409, error: 'Conflict', exception, path })
  expect(res.body.message).toMatch(/^Message with messageId = /)
}

export const BUSY = 'java.lang.IllegalStateException'
export const BEING_SENT = 'no.difi.meldingsutveksling.exceptions.MessageAlreadyExistsException'

export { eventually, json }
