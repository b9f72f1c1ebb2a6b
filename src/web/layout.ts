import type { FastifyReply } from 'fastify'
import { type Html, html } from './html.js'

/** What every page shows around its content. */
export interface Shell {
  org: string
  version: string
}

export interface Page {
  title: string
  /** the nav entry to mark as current */
  nav?: NavKey
  flash?: { text: string; error?: boolean } | undefined
  body: Html
}

type NavKey = 'overview' | 'conversations' | 'capabilities' | 'configuration'

const NAV: [NavKey, string, string][] = [
  ['overview', '/', 'Overview'],
  ['conversations', '/conversations', 'Conversations'],
  ['capabilities', '/capabilities', 'Capabilities'],
  ['configuration', '/configuration', 'Configuration'],
]

/**
 * The pages send no script and load nothing but our style sheet; the policy says so, so an injected tag
 * could not run even if escaping were ever missed.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
}

export function renderPage(shell: Shell, page: Page): string {
  const navLinks = NAV.map(
    ([key, path, label]) =>
      html`<a href="${path}"${key === page.nav ? html` aria-current="page"` : ''}>${label}</a>`,
  )
  const flash = page.flash
    ? html`<p class="flash${page.flash.error ? ' error' : ''}" role="status">${page.flash.text}</p>`
    : ''
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · Integrasjonspunkt ${shell.org}</title>
<link rel="stylesheet" href="/web/style.css">
</head>
<body>
<header class="top">
<a class="brand" href="/">Integrasjonspunkt <span>${shell.org}</span></a>
<nav aria-label="Main">${navLinks}</nav>
</header>
<main>
${flash}
${page.body}
</main>
<footer>integrasjonspunkt ${shell.version}</footer>
</body>
</html>
`.text
}

export function sendPage(reply: FastifyReply, shell: Shell, page: Page, status = 200): FastifyReply {
  return reply
    .code(status)
    .headers(SECURITY_HEADERS)
    .header('content-type', 'text/html; charset=utf-8')
    .send(renderPage(shell, page))
}

/** An error as a page: what went wrong, in words, with the way back. */
export function errorPage(status: number, message: string): Page {
  const title = status === 404 ? 'Not found' : status < 500 ? 'Bad request' : 'Something went wrong'
  return {
    title,
    body: html`<h1>${title}</h1>
<section class="card"><p>${message}</p><p><a href="/">Back to the overview</a> ·
<a href="/conversations">Search conversations</a></p></section>`,
  }
}
