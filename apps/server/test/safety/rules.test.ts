// Every rule in rules.ts, checked against its own examples: each example fires the rule through the
// whole scorer (folding, trigger pre-filter, pattern), each counter-example does not. A rule whose
// triggers miss one of its own examples fails here, not silently in production.
import { describe, expect, it } from 'vitest'
import { SIGNAL_RULES, TEXT_RULES } from '../../src/safety/rules.js'
import { compilePattern, scoreMessage, type ScoreInput } from '../../src/safety/score.js'

const input = (text: string): ScoreInput => ({
  subject: null,
  text,
  html: null,
  headers: [],
  from: { address: 'someone@example.org', name: null },
  replyTo: [],
  attachments: [],
  auth: null,
  context: { tenantDomains: ['acme.com'], recipient: 'agent@acme.com' },
})

const firedRules = (text: string) => new Set(scoreMessage(input(text)).signals.map((s) => s.rule))

describe('text rules', () => {
  it('have unique ids, triggers, examples and valid categories', () => {
    const ids = TEXT_RULES.map((r) => r.id)
    expect(new Set(ids).size).toBe(ids.length)
    const categories = new Set(['instruction_override', 'role_spoofing', 'exfiltration', 'coercion', 'hidden_content', 'obfuscation', 'link_mismatch', 'sender_spoofing'])
    for (const r of TEXT_RULES) {
      expect(categories.has(r.category), r.id).toBe(true)
      expect(r.triggers.length, r.id).toBeGreaterThan(0)
      expect(r.examples.length, r.id).toBeGreaterThan(0)
      expect(r.weight, r.id).toBeGreaterThan(0)
      expect(r.weight, r.id).toBeLessThanOrEqual(1)
      expect(() => compilePattern(r.pattern), r.id).not.toThrow()
    }
    for (const [id, r] of Object.entries(SIGNAL_RULES)) expect(categories.has(r.category), id).toBe(true)
  })

  it('cover English, French, German and Spanish for each instruction category', () => {
    for (const category of ['instruction_override', 'role_spoofing', 'exfiltration', 'coercion']) {
      const langs = new Set(TEXT_RULES.filter((r) => r.category === category).map((r) => r.lang))
      for (const lang of ['en', 'fr', 'de', 'es']) expect(langs.has(lang as never) || langs.has('any'), `${category} ${lang}`).toBe(true)
    }
  })

  for (const rule of TEXT_RULES) {
    it(`${rule.id}: fires on its examples and not on its counter-examples`, () => {
      for (const example of rule.examples) expect(firedRules(example), example).toContain(rule.id)
      for (const counter of rule.counterExamples ?? []) expect(firedRules(counter), counter).not.toContain(rule.id)
    })
  }
})
