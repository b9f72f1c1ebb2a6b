// Singleton background tasks across instances: a task runs only while its instance holds the task's
// lease, a row in `leases`. The holder renews it while a round runs and keeps it between rounds; when the
// holder dies its lease runs out and the next instance to try takes the task over. Rounds are idempotent,
// so the short overlap a stalled holder could cause (it lost the lease mid-round) does no harm.

import type { Logger } from 'pino'
import type { Db } from '../db/open.js'
import type { Clock } from '../util/time.js'
import { createLoop, type Loop, type Task } from './loop.js'

/**
 * Takes or renews the lease `name` for `holder` until `now + leaseMs`: true when `holder` has it now
 * (it was free, had run out, or was `holder`'s already). One statement, so two instances never both win.
 */
export async function takeLease(
  db: Db,
  name: string,
  holder: string,
  now: number,
  leaseMs: number,
): Promise<boolean> {
  const until = now + leaseMs
  const row = await db.kysely
    .insertInto('leases')
    .values({ name, holder, lease_until: until })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, lease_until: until })
        .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.lease_until', '<', now)])),
    )
    .returning('holder')
    .executeTakeFirst()
  return row?.holder === holder
}

/** Gives up `holder`'s leases (at shutdown), so another instance takes the tasks at once. */
export async function releaseLeases(db: Db, holder: string): Promise<number> {
  const r = await db.kysely.deleteFrom('leases').where('holder', '=', holder).executeTakeFirst()
  return Number(r.numDeletedRows)
}

export interface LeasedLoopOptions extends Task {
  db: Db
  clock: Clock
  logger: Logger
  /** this instance (its worker id) */
  holder: string
  leaseMs: number
}

/**
 * A loop (loop.ts) whose rounds run only while this instance holds the lease `name`. The task's `name` is the
 * lease's: one task across every instance on this database. A round that
 * finds the lease held elsewhere does nothing and sleeps its interval, so a follower tries again at
 * its next round and takes over within a lease time (plus an interval) of the holder's death.
 */
export function createLeasedLoop(opts: LeasedLoopOptions): Loop {
  let holding = false
  return createLoop({
    name: opts.name,
    intervalMs: opts.intervalMs,
    onError: opts.onError,
    tick: async () => {
      const now = () => opts.clock.now().getTime()
      const held = await takeLease(opts.db, opts.name, opts.holder, now(), opts.leaseMs)
      if (held !== holding) {
        holding = held
        opts.logger.debug(
          { task: opts.name, holder: opts.holder },
          held ? 'took the lease' : 'lost the lease',
        )
      }
      if (!held) return 0
      // a round longer than the lease (a large download) keeps it renewed while it runs
      const renew = setInterval(
        () => {
          takeLease(opts.db, opts.name, opts.holder, now(), opts.leaseMs).catch((err) =>
            opts.logger.warn({ err, task: opts.name }, 'could not renew a lease'),
          )
        },
        Math.max(250, Math.floor(opts.leaseMs / 3)),
      )
      renew.unref?.()
      try {
        return await opts.tick()
      } finally {
        clearInterval(renew)
      }
    },
  })
}
