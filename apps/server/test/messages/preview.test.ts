// A message's preview: its text (or its HTML without tags) with whitespace runs as single spaces,
// trimmed, cut at 200 characters. It is collapsed from a head of the text just long enough, so it
// must come out exactly as collapsing all of it would.
import { describe, expect, it } from 'vitest'
import { previewOf } from '../../src/messages/service.js'

/** The preview as collapsing the whole source gives it (the definition the head must match). */
const whole = (source: string, chars: number) => source.replace(/\s+/g, ' ').trim().slice(0, chars)

/** A small seeded generator, so a failure names an input that can be made again. */
function random(seed: number) {
  let s = seed >>> 0
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    // The high bits: an LCG's low bits repeat with a short period.
    return Math.floor((s / 2 ** 32) * n)
  }
}

const PIECES = ['word', 'é', '日本', '😀', ' ', '  ', '\n', '\r\n', '\t', '\u00a0', '\u2003', '\ufeff', ' '.repeat(50), '\n'.repeat(300), 'x'.repeat(90)]

describe('previewOf', () => {
  it('matches the whole text collapsed, for texts of every length around where the head is cut', () => {
    const next = random(22)
    for (let i = 0; i < 3000; i++) {
      const chars = [1, 7, 200, 333][next(4)]!
      let text = ''
      const target = next(3000)
      while (text.length < target) text += PIECES[next(PIECES.length)]!
      expect(previewOf(text, null, chars), `seed 22, case ${i}`).toBe(whole(text, chars))
    }
  })

  it('keeps no trailing space when only whitespace follows the head', () => {
    for (const chars of [2, 7, 200]) {
      const text = `${'x'.repeat(chars - 1)}${' '.repeat(3 * chars + 100)}`
      expect(previewOf(text, null, chars)).toBe('x'.repeat(chars - 1))
      expect(previewOf(`${text}y`, null, chars)).toBe(`${'x'.repeat(chars - 1)} `)
    }
  })

  it('reaches past a head that is all whitespace', () => {
    const text = `${' \n'.repeat(5000)}  hello   world  ${'\t'.repeat(3000)} end`
    expect(previewOf(text, null)).toBe('hello world end')
    expect(previewOf(' '.repeat(10_000), null)).toBe('')
  })

  it('cuts a long text at 200 characters, and keeps a short one whole', () => {
    const long = Array.from({ length: 500 }, (_, k) => `w${k}`).join(' \n ')
    expect(previewOf(long, null)).toBe(whole(long, 200))
    expect(previewOf(long, null)).toHaveLength(200)
    expect(previewOf('  short\n\ntext  ', null)).toBe('short text')
  })

  it('uses the HTML without its tags, styles and scripts when there is no text', () => {
    const html = `<style>p { color: red }</style><p>Hello&nbsp;<b>there</b></p>${'<br>'.repeat(400)}<script>x()</script><p>a &lt; b &amp; c</p>`
    expect(previewOf(null, html)).toBe('Hello there a < b & c')
    expect(previewOf(null, null)).toBeNull()
  })
})
