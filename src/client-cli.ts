#!/usr/bin/env node
// `integrasjonspunkt-client`, the command line of packages/client, as a bin of this package too, so
// `npx integrasjonspunkt-client` works in a clone after `npm ci` and wherever the server is installed.
await import('integrasjonspunkt-client/cli')
