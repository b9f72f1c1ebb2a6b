import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { type Sandbox, sandboxBanner, startSandbox } from '../src/sandbox.js'

type Json = Record<string, any>

/** The sandbox as `npm start` runs it, on free ports: the README's walk-through, and a restart. */
describe('the sandbox', () => {
  let dir: string
  let sandbox: Sandbox | undefined
  afterEach(async () => {
    await sandbox?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('sends from one organisation to the other, and keeps it over a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    const logger = pino({ level: 'silent' })
    sandbox = await startSandbox({ cwd: dir, logger, anyPorts: true })
    const [a] = sandbox.points.map((p) => p.url)
    expect(sandboxBanner(sandbox)).toContain(`${a}/api/capabilities/910077473`)
    expect(await (await fetch(`${sandbox.brokerUrl}/health`)).json()).toEqual({ status: 'UP' })

    const caps = (await (await fetch(`${a}/api/capabilities/910077473`)).json()) as Json
    expect(caps.capabilities.map((c: Json) => c.serviceIdentifier)).toContain('DPO')

    const sbd = (await (
      await fetch(`${a}/api/prototype/arkivmelding?receiverIdentifier=910077473`)
    ).json()) as Json
    sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    const messageId = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    const example = new URL('../sandbox/example/', import.meta.url)
    const form = new FormData()
    form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
    form.append(
      'Arkivmelding',
      new Blob([readFileSync(new URL('arkivmelding.xml', example))], { type: 'application/xml' }),
      'arkivmelding.xml',
    )
    form.append(
      'Vedtak',
      new Blob([readFileSync(new URL('vedtak.pdf', example))], { type: 'application/pdf' }),
      'vedtak.pdf',
    )
    const sent = await fetch(`${a}/api/messages/out/multipart`, { method: 'POST', body: form })
    expect(sent.status, await sent.clone().text()).toBe(200)

    await sandbox.stop()
    sandbox = await startSandbox({ cwd: dir, logger, anyPorts: true })
    const [again] = sandbox.points.map((p) => p.url)
    const conv = (await (await fetch(`${again}/api/conversations/messageId/${messageId}`)).json()) as Json
    expect(conv).toMatchObject({
      messageTitle: 'Vedtak om tilskudd',
      receiverIdentifier: '910077473',
      serviceIdentifier: 'DPO',
    })
  })
})
