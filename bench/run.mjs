// `npm run bench -- <name>…`: runs the named benchmarks one after another, each in its own process (as
// bench/README.md runs them by hand); with no name it lists them. Each prints its figures and the
// baseline measured in the same run; none runs in CI. (support.mjs and chain-floor.mjs are their parts.)
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const here = new URL('.', import.meta.url).pathname
const benchmarks = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && !['run.mjs', 'support.mjs', 'chain-floor.mjs'].includes(f))
  .map((f) => f.replace(/\.mjs$/, ''))
  .sort()

const names = process.argv.slice(2)
if (names.length === 0) {
  console.log(`Usage: npm run bench -- <name>… (or all); each is described in bench/README.md

${benchmarks.map((b) => `  ${b}`).join('\n')}`)
  process.exit(0)
}
const chosen = names.includes('all') ? benchmarks : names
const unknown = chosen.filter((n) => !benchmarks.includes(n))
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.join(', ')}`)
  process.exit(2)
}
if (!existsSync(join(here, '..', 'dist', 'src', 'cli.js'))) {
  console.error('build first: npm run build (the benchmarks start the integration point from dist/)')
  process.exit(2)
}
for (const name of chosen) {
  console.log(`\n== ${name}`)
  const { status } = spawnSync(process.execPath, [join(here, `${name}.mjs`)], { stdio: 'inherit' })
  if (status !== 0) process.exit(status ?? 1)
}
