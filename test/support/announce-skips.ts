// Vitest's global set-up: says at the start of the suite which groups of tests will be skipped on this
// machine and why, so a green run on a machine without PostgreSQL, Chromium or the shared reference
// material is not mistaken for a run that checked everything.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const SHARED = new URL('../../../shared/reference/data/', import.meta.url)

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export function skippedGroups(env: NodeJS.ProcessEnv = process.env): string[] {
  const skipped: string[] = []
  if (!env.TEST_POSTGRES_URL)
    skipped.push(
      'PostgreSQL variants of the store tests, and the three-instance test (test/multi-instance.test.ts): TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)',
    )
  if (!existsSync('/usr/bin/chromium'))
    skipped.push(
      'browser tests of the web pages (test/web-browser.test.ts): /usr/bin/chromium is missing (apt-get install chromium)',
    )
  if (!existsSync(SHARED))
    skipped.push(
      'checks against the reference samples and XSDs: ../shared/reference is not beside this clone',
    )
  if (!hasOpenssl()) skipped.push('cross-checks of certificates with OpenSSL: openssl is not on the PATH')
  return skipped
}

export default function announce(): void {
  const skipped = skippedGroups()
  if (skipped.length === 0) {
    console.log('[tests] every group of tests runs on this machine')
    return
  }
  console.log(`[tests] SKIPPED on this machine:\n${skipped.map((s) => `  - ${s}`).join('\n')}`)
}
