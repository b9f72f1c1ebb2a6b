import { describe, expect, it } from 'vitest'
import { BrokerError } from '../altinn-errors.js'
import { createCorrespondenceClient } from './client.js'
import { multipartBody } from './multipart.js'

describe('the correspondence client', () => {
  it('makes a refused token a retryable failure: the send is tried again, not given up', async () => {
    const refused = new BrokerError('The Altinn token exchange answered 401: expired', {
      status: 401,
      retryable: false,
    })
    const client = createCorrespondenceClient({
      baseUrl: 'http://127.0.0.1:9/correspondence/api/v1',
      tokens: { token: () => Promise.reject(refused) },
      timeoutMs: 1000,
    })
    try {
      const error = await client
        .upload(multipartBody([{ name: 'a', value: 'b' }], []))
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BrokerError)
      expect(error).toMatchObject({ retryable: true, cause: refused })
      expect((error as Error).message).toMatch(/no Altinn token: .*401: expired/)
    } finally {
      await client.close()
    }
  })
})
