// Received HTML is hostile until proven otherwise. It is shown in an <iframe sandbox srcdoc> with
// no allow-scripts, no allow-same-origin (an opaque origin: no access to the console, its storage
// or its cookies) and no allow-forms. Inside, a Content-Security-Policy lets nothing load but
// inline styles and data: images (and https: images once the person asks), which also stops CSS
// exfiltration through url(). The markup is cleaned first, inertly (DOMParser runs no script and
// loads nothing): scripts, event handlers, meta refresh, base, link, embedded frames and objects are
// removed, javascript: URLs dropped, and links made to open in a new tab without opener or referrer.

/** The sandbox of the mail frame: links may open a new tab (escaping the sandbox), nothing else. */
export const MAIL_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox'

export function mailCsp(remoteImages: boolean): string {
  return [
    "default-src 'none'",
    "script-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src data: cid:${remoteImages ? ' https:' : ''}`,
    'font-src data:',
    'media-src data:',
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ')
}

const REMOVE = 'script, noscript, meta, base, link, iframe, frame, frameset, object, embed, applet, portal, template, dialog'
const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'xlink:href', 'background', 'poster', 'data', 'srcset', 'ping', 'lowsrc', 'dynsrc']
const DANGEROUS_URL = /^\s*(javascript|vbscript|data:text\/html|file):/i
const REMOTE_URL = /^\s*(https?:)?\/\//i

export interface CleanMail {
  /** The srcdoc for the sandboxed frame. */
  srcdoc: string
  /** Images and other remote references the policy keeps blocked until allowed. */
  remoteCount: number
}

/**
 * The frame document for `html`. `inline` maps Content-IDs (without <>) to data: URLs of the
 * message's inline parts, so `cid:` images show without any request.
 */
export function cleanMail(html: string, opts: { remoteImages: boolean; inline?: Map<string, string> }): CleanMail {
  const doc = new DOMParser().parseFromString(html, 'text/html')
  for (const el of Array.from(doc.querySelectorAll(REMOVE))) el.remove()
  // Forms stay as plain blocks: the sandbox could not submit them anyway, and a field without its form is inert.
  for (const form of Array.from(doc.querySelectorAll('form'))) {
    const div = doc.createElement('div')
    while (form.firstChild) div.appendChild(form.firstChild)
    form.replaceWith(div)
  }
  let remoteCount = 0
  for (const el of Array.from(doc.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase()
      if (name.startsWith('on') || name === 'formaction' || name === 'http-equiv' || name === 'ping') {
        el.removeAttribute(attr.name)
        continue
      }
      if (URL_ATTRS.includes(name)) {
        if (DANGEROUS_URL.test(attr.value)) el.removeAttribute(attr.name)
        else if (REMOTE_URL.test(attr.value) && name !== 'href') remoteCount++
      }
      if (name === 'style' && /url\s*\(\s*['"]?\s*(https?:)?\/\//i.test(attr.value)) remoteCount++
    }
    const tag = el.tagName.toLowerCase()
    if (tag === 'img') {
      const src = el.getAttribute('src') ?? ''
      if (/^cid:/i.test(src)) {
        const data = opts.inline?.get(src.slice(4).replace(/^<|>$/g, ''))
        if (data) el.setAttribute('src', data)
      }
      el.setAttribute('referrerpolicy', 'no-referrer')
    }
    if ((tag === 'a' || tag === 'area') && el.hasAttribute('href')) {
      el.setAttribute('target', '_blank')
      el.setAttribute('rel', 'noopener noreferrer nofollow')
    }
  }
  for (const style of Array.from(doc.querySelectorAll('style'))) {
    remoteCount += (style.textContent ?? '').match(/url\s*\(\s*['"]?\s*(https?:)?\/\//gi)?.length ?? 0
    // @import pulls a stylesheet from elsewhere; the policy refuses it, so do not even ask.
    style.textContent = (style.textContent ?? '').replace(/@import[^;]*;?/gi, '')
  }
  const headStyles = Array.from(doc.head.querySelectorAll('style'))
    .map((s) => s.outerHTML)
    .join('')
  const srcdoc =
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${mailCsp(opts.remoteImages)}">` +
    '<meta name="referrer" content="no-referrer">' +
    '<style>html{color-scheme:light}body{margin:12px;font:14px/1.5 system-ui,sans-serif;color:#111;background:#fff;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>' +
    headStyles +
    '</head><body>' +
    doc.body.innerHTML +
    '</body></html>'
  return { srcdoc, remoteCount }
}
