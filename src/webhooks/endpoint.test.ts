import { describe, expect, it } from 'vitest'
import { ALLOWED_HOST_ENTRY } from '../config/hosts.js'
import { checkEndpoint, hostAllowed, redactEndpoint } from './endpoint.js'

describe('push endpoints', () => {
  it('takes http and https URLs only', () => {
    expect(checkEndpoint('https://fagsystem.example.no/hooks', []).ok).toBe(true)
    expect(checkEndpoint('http://127.0.0.1:8080/x', []).ok).toBe(true)
    expect(checkEndpoint('ftp://fagsystem.example.no/x', [])).toEqual({ ok: false, reason: 'scheme' })
    expect(checkEndpoint('file:///etc/passwd', [])).toEqual({ ok: false, reason: 'scheme' })
    expect(checkEndpoint('not a url', [])).toEqual({ ok: false, reason: 'url' })
    expect(checkEndpoint('', [])).toEqual({ ok: false, reason: 'url' })
  })

  it('keeps to the allow-list when there is one', () => {
    const allowed = ['fagsystem.example.no', '*.intern.example.no', '10.0.0.7', '[::1]']
    expect(hostAllowed('fagsystem.example.no', allowed)).toBe(true)
    expect(hostAllowed('FAGSYSTEM.example.no.', allowed)).toBe(true)
    expect(hostAllowed('arkiv.intern.example.no', allowed)).toBe(true)
    expect(hostAllowed('intern.example.no', allowed)).toBe(false)
    expect(hostAllowed('evilintern.example.no', allowed)).toBe(false)
    expect(hostAllowed('10.0.0.7', allowed)).toBe(true)
    expect(hostAllowed('10.0.0.8', allowed)).toBe(false)
    expect(hostAllowed('[::1]', allowed)).toBe(true)
    expect(hostAllowed('169.254.169.254', allowed)).toBe(false)
    expect(checkEndpoint('http://169.254.169.254/latest/meta-data', allowed)).toEqual({
      ok: false,
      reason: 'host',
    })
    expect(hostAllowed('anything.example.com', [])).toBe(true)
  })

  it('knows a well-formed allow-list entry', () => {
    for (const ok of ['fagsystem.example.no', '*.example.no', '10.0.0.7', '::1', '[::1]'])
      expect(ALLOWED_HOST_ENTRY.test(ok), ok).toBe(true)
    for (const bad of ['http://x', 'a b', 'x/y', '*', 'a.*.no'])
      expect(ALLOWED_HOST_ENTRY.test(bad), bad).toBe(false)
  })

  it('hides passwords', () => {
    expect(redactEndpoint('https://u:pw@fagsystem.example.no/h')).toBe('https://u:***@fagsystem.example.no/h')
    expect(redactEndpoint('https://fagsystem.example.no/h')).toBe('https://fagsystem.example.no/h')
  })
})
