// The last step of `npm run build`, after tsc has compiled src/ into dist/src/: bundles the server's command
// line (src/cli.ts and everything it imports) with esbuild into a few ES-module files under
// dist/src/cli-bundle/, and makes dist/src/cli.js (the `integrasjonspunkt` bin, `npm start`) a small entry
// that loads them. Start to ready is mostly Node.js resolving, reading and compiling modules one file at a
// time; one bundle is a few dozen files instead of about eleven hundred (bench/README.md,
// "Start-up, issue 20"). The rest of dist/src/ stays as tsc wrote it, for the benchmarks and anyone
// importing single modules.
//
// The entry first turns on Node.js's compile cache (Node.js 22.1 and later; a no-op on 20): the compiled
// code of the bundle is kept between starts in NODE_COMPILE_CACHE, or by default in
// <the OS temporary folder>/node-compile-cache (docs/operations.md, "Start-up").
//
// Kept out of the bundle, loaded from node_modules as before:
// - better-sqlite3 (a native addon, with pg-native that pg loads only if asked);
// - @fastify/swagger and @fastify/swagger-ui, which read their own files at run time (Swagger UI's
//   static folder, their package.json) from paths next to their code.
// No other bundled package reads files beside its code or starts worker threads on the paths we use
// (pino's transports would, and we use none).
import { rmSync, writeFileSync } from 'node:fs'
import { build } from 'esbuild'

const root = new URL('..', import.meta.url).pathname
const outdir = `${root}dist/src/cli-bundle`
rmSync(outdir, { recursive: true, force: true })

await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts' },
  outdir,
  bundle: true,
  // the stand-ins and the sandbox, which src/cli.ts imports only for their commands, become chunks of their own
  splitting: true,
  chunkNames: '[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  external: ['better-sqlite3', 'pg-native', '@fastify/swagger', '@fastify/swagger-ui'],
  // CommonJS packages inside an ES module call `require` for Node.js's own modules
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
})

writeFileSync(
  `${root}dist/src/cli.js`,
  `#!/usr/bin/env node
// Written by scripts/bundle-cli.mjs (npm run build): the compile cache first (Node.js 22.1 and later), then the
// bundled command line (src/cli.ts).
import module from 'node:module'

module.enableCompileCache?.()
await import('./cli-bundle/cli.js')
`,
)
rmSync(`${root}dist/src/cli.js.map`, { force: true })
