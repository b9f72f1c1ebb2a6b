/**
 * The form of a `difi.move.webhooks.allowed-hosts` entry: a host name or IP address
 * (`fagsystem.example.no`, `10.0.0.7`, `[::1]`), or `*.example.no` for any subdomain. It lives with the
 * configuration, which refuses a malformed entry at start; src/webhooks/endpoint.ts matches push
 * endpoints against the entries this lets through.
 */
export const ALLOWED_HOST_ENTRY = /^(\*\.)?[A-Za-z0-9._-]+$|^\[?[0-9A-Fa-f:.]+\]?$/
