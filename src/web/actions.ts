// The operator's two actions on a message, each what the API would do, in one transaction, logged
// with the message's correlation_id: unlock an incoming message a peek locked, and send an outgoing
// message now instead of at its next try.

import type { FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Db } from '../db/open.js'
import type { PayloadStore } from '../files/payload-store.js'
import { runNow } from '../jobs/outbox.js'
import { isLocked } from '../messages/in/queue.js'
import { inMessageByMessageId, unlockById } from '../messages/in/repository.js'
import { forMessage } from '../util/log.js'
import type { Clock } from '../util/time.js'
import { html, messageHref } from './html.js'
import type { Page } from './layout.js'
import { keptFiles, retryPlan } from './message-data.js'

export interface ActionDeps {
  db: Db
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  /** wakes the job runner (absent when this process runs none) */
  onSendJob?: (() => void) | undefined
}

export const ACTIONS = {
  unlock: {
    title: 'Unlock this incoming message?',
    text: 'The fagsystem that peeked it loses its lock: the next peek hands the message out again (possibly to another fagsystem sharing this integration point).',
    button: 'Unlock',
  },
  retry: {
    title: 'Send this message now?',
    text: 'The send job runs at once instead of at its next try. A send that was given up starts again with its attempts counted from zero.',
    button: 'Send now',
  },
} as const

export type ActionName = keyof typeof ACTIONS

/** The flash messages an action ends with, by the code the redirect carries. */
export const OUTCOMES: Record<string, { text: string; error?: boolean }> = {
  unlocked: { text: 'The message is unlocked: the next peek hands it out.' },
  'not-locked': { text: 'The message was not locked; nothing changed.', error: true },
  gone: { text: 'The message is no longer in the incoming queue; nothing changed.', error: true },
  'retry-now': { text: 'The send job runs now.' },
  'retry-revived': { text: 'The given-up send starts again now, attempts counted from zero.' },
  'retry-none': { text: 'Nothing to retry now; the page says why.', error: true },
}

export function confirmPage(action: ActionName, messageId: string): Page {
  const a = ACTIONS[action]
  return {
    title: a.title,
    body: html`<h1>${a.title}</h1><section class="card">
<p>Message <code>${messageId}</code></p><p>${a.text}</p>
<form method="post" action="${messageHref(messageId)}/${action}" class="actions">
<button type="submit" class="${action === 'unlock' ? 'danger' : ''}" id="confirm">${a.button}</button>
<a class="button secondary" href="${messageHref(messageId)}">Cancel</a></form></section>`,
  }
}

export async function unlock(deps: ActionDeps, messageId: string): Promise<keyof typeof OUTCOMES> {
  const now = deps.clock.now().getTime()
  const outcome = await deps.db.kysely.transaction().execute(async (trx) => {
    const row = await inMessageByMessageId(trx, messageId)
    if (!row) return 'gone' as const
    if (!isLocked(row, now)) return 'not-locked' as const
    // the repository function `POST /api/messages/in/unlock/{messageId}` uses
    await unlockById(trx, row.id)
    return 'unlocked' as const
  })
  forMessage(deps.logger, messageId).info({ messageId, action: 'unlock', outcome }, `web: unlock ${outcome}`)
  return outcome
}

export async function retry(deps: ActionDeps, messageId: string): Promise<keyof typeof OUTCOMES> {
  const now = deps.clock.now().getTime()
  // files are only removed after their message row: one kept now is kept while the row is
  const kept = await keptFiles(deps.db.kysely, deps.payloads, messageId)
  const outcome = await deps.db.kysely.transaction().execute(async (trx) => {
    const plan = await retryPlan(
      trx,
      { missing: async (keys) => keys.filter((key) => !kept.has(key)) },
      messageId,
      now,
    )
    if (plan.kind === 'none') return 'retry-none' as const
    // the plan read the job in this transaction; a worker claiming it meanwhile wins
    if (!(await runNow(trx, plan.job, now))) return 'retry-none' as const
    return plan.kind === 'revive' ? ('retry-revived' as const) : ('retry-now' as const)
  })
  if (outcome !== 'retry-none') deps.onSendJob?.()
  forMessage(deps.logger, messageId).info({ messageId, action: 'retry', outcome }, `web: ${outcome}`)
  return outcome
}

/**
 * Why a POST must be refused as cross-site, or undefined when it came from our own pages. Browsers send
 * Sec-Fetch-Site on every request; older ones send Origin on a form POST. A request with neither is not
 * from a form of ours (a script with the password needs no form: it can use the API).
 */
export function crossSiteReason(req: FastifyRequest): string | undefined {
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string')
    return site === 'same-origin' ? undefined : `the request came from another site (Sec-Fetch-Site: ${site})`
  const origin = req.headers.origin
  if (typeof origin !== 'string') return 'the request names neither Sec-Fetch-Site nor Origin'
  try {
    if (new URL(origin).host === req.headers.host) return undefined
  } catch {
    // an unparsable Origin (`null`) is not ours
  }
  return `the request came from another origin (${origin})`
}
