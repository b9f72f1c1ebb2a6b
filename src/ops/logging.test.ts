import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { CORRELATION_ID, forMessage } from '../util/log.js'
import { createLogger, formatLine } from './logging.js'

function sink() {
  let text = ''
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk)
      done()
    },
  })
  return { stream, text: () => text }
}

const ID = '5c6f1a2e-0b7d-4a56-9a3e-2f7c1d9e8b10'

describe('the log', () => {
  it('writes JSON lines whose message lines carry correlation_id', () => {
    const out = sink()
    const logger = createLogger({ format: 'json', level: 'info' }, out.stream)
    forMessage(logger, ID).info({ service: 'DPO' }, 'message sent')
    forMessage(logger, null).info('no message here')
    const [sent, other] = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(sent).toMatchObject({ [CORRELATION_ID]: ID, service: 'DPO', msg: 'message sent', level: 30 })
    expect(other[CORRELATION_ID]).toBeUndefined()
  })

  it('redacts passwords, secrets, tokens and Authorization headers wherever a caller puts them', () => {
    const out = sink()
    const logger = createLogger({ format: 'json', level: 'info' }, out.stream)
    logger.info(
      {
        password: 'pw-1',
        security: { password: 'pw-2' },
        subscription: { secret: 'secret-3' },
        token: 'token-4',
        req: { headers: { authorization: 'Basic cHctNQ==' } },
      },
      'settings',
    )
    const text = out.text()
    for (const leaked of ['pw-1', 'pw-2', 'secret-3', 'token-4', 'cHctNQ']) expect(text).not.toContain(leaked)
    expect(text).toContain('[redacted]')
  })

  it('writes readable text lines with logging.format=text', () => {
    const out = sink()
    const logger = createLogger({ format: 'text', level: 'info' }, out.stream)
    forMessage(logger, ID).warn({ attempts: 2, error: 'broker said 503' }, 'job send failed, will try again')
    logger.debug('not at info level')
    const lines = out.text().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z WARN  \\[${ID}\\] job send failed, will try again attempts=2 error="broker said 503"$`,
      ),
    )
  })

  it('formats request lines and errors briefly', () => {
    const time = Date.UTC(2026, 2, 10, 9)
    expect(
      formatLine({
        level: 30,
        time,
        msg: 'request completed',
        res: { statusCode: 200 },
        req: { method: 'GET', url: '/api/statuses' },
        responseTime: 1.5,
      }),
    ).toBe('2026-03-10T09:00:00.000Z INFO  request completed res=200 req=GET /api/statuses responseTime=1.5')
    const withError = formatLine({ level: 50, time, msg: 'failed', err: { stack: 'Error: boom\n    at x' } })
    expect(withError.split('\n')).toEqual([
      '2026-03-10T09:00:00.000Z ERROR failed',
      '    Error: boom',
      '        at x',
    ])
  })
})
