import { describe, expect, it } from 'vitest'
import {
  ApiError,
  apiErrorFor,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  IntegrasjonspunktError,
  isApiException,
  NetworkError,
  NotFoundError,
  ServerError,
  UnauthorizedError,
} from './errors.js'

const referenceBody = JSON.stringify({
  timestamp: '2019-03-25T12:38:23+01:00',
  status: 400,
  error: 'Bad Request',
  exception: 'jakarta.validation.ConstraintViolationException',
  message: 'standardBusinessDocumentHeader.documentIdentification.type: Must be a NextMove message type',
  path: '/api/messages/out',
  description: 'why',
  errors: [
    {
      codes: ['MessageType'],
      field: 'standardBusinessDocumentHeader.documentIdentification.type',
      code: 'MessageType',
    },
  ],
})

describe('apiErrorFor', () => {
  it('keeps every field of the reference error JSON', () => {
    const error = apiErrorFor({ status: 400, statusText: 'Bad Request', body: referenceBody })
    expect(error).toBeInstanceOf(BadRequestError)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toBeInstanceOf(IntegrasjonspunktError)
    expect(error).toMatchObject({
      status: 400,
      error: 'Bad Request',
      exception: 'jakarta.validation.ConstraintViolationException',
      exceptionName: 'ConstraintViolationException',
      message: 'standardBusinessDocumentHeader.documentIdentification.type: Must be a NextMove message type',
      path: '/api/messages/out',
      timestamp: '2019-03-25T12:38:23+01:00',
      description: 'why',
      body: referenceBody,
      name: 'BadRequestError',
    })
    expect(error.errors?.[0]?.code).toBe('MessageType')
    expect(isApiException(error, 'ConstraintViolationException')).toBe(true)
    expect(isApiException(error, 'MessageNotFoundException')).toBe(false)
  })

  it('picks the subclass by status', () => {
    const cases: [number, new (...a: never[]) => ApiError][] = [
      [400, BadRequestError],
      [401, UnauthorizedError],
      [403, ForbiddenError],
      [404, NotFoundError],
      [409, ConflictError],
      [500, ServerError],
      [503, ServerError],
    ]
    for (const [status, type] of cases) expect(apiErrorFor({ status, body: '' })).toBeInstanceOf(type)
    const teapot = apiErrorFor({ status: 418, body: '' })
    expect(teapot.constructor).toBe(ApiError)
  })

  it('turns a body that is not the error JSON into the message', () => {
    const html = apiErrorFor({ status: 502, statusText: 'Bad Gateway', body: '<html>upstream down</html>\n' })
    expect(html).toBeInstanceOf(ServerError)
    expect(html.message).toBe('<html>upstream down</html>')
    expect(html.exception).toBeUndefined()
    expect(html.error).toBe('Bad Gateway')
    expect(apiErrorFor({ status: 401, statusText: 'Unauthorized', body: '' }).message).toBe(
      'HTTP 401 Unauthorized',
    )
    expect(apiErrorFor({ status: 500, body: '{"not":"closed' }).message).toBe('{"not":"closed')
    expect(apiErrorFor({ status: 500, body: '[1]', path: '/api/x' }).path).toBe('/api/x')
  })
})

describe('NetworkError', () => {
  it('says where it failed and keeps the cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const error = new NetworkError('http://127.0.0.1:1/api/x', cause, 'ECONNREFUSED')
    expect(error.cause).toBe(cause)
    expect(error.code).toBe('ECONNREFUSED')
    expect(error.message).toContain('http://127.0.0.1:1/api/x')
    expect(error.name).toBe('NetworkError')
  })
})
