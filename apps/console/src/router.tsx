// A small client-side router over the History API: the route table (routes.ts) is data, paths are
// matched by pattern (`/inboxes/:inboxId`), pages load on demand, and <Link> keeps modifier clicks
// (new tab) working like plain links.
import { createContext, useContext, useEffect, useState, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react'

export const BASE = '/console'

export interface Location {
  /** The path inside the console, starting with `/`. */
  path: string
  search: URLSearchParams
}

function current(): Location {
  const raw = window.location.pathname
  const path = raw.startsWith(BASE) ? raw.slice(BASE.length) || '/' : '/'
  return { path, search: new URLSearchParams(window.location.search) }
}

const listeners = new Set<() => void>()

/** Goes to a console path (`/inboxes/inb_...`, with an optional `?query`). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = BASE + (to.startsWith('/') ? to : `/${to}`)
  if (opts.replace) window.history.replaceState(null, '', url)
  else window.history.pushState(null, '', url)
  for (const fn of listeners) fn()
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current)
  useEffect(() => {
    const update = () => setLoc(current())
    listeners.add(update)
    window.addEventListener('popstate', update)
    return () => {
      listeners.delete(update)
      window.removeEventListener('popstate', update)
    }
  }, [])
  return loc
}

/** `pattern` against `path`: the named segments, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean)
  const s = path.split('/').filter(Boolean)
  if (p.length !== s.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!
    const seg = s[i]!
    if (part.startsWith(':')) {
      try {
        params[part.slice(1)] = decodeURIComponent(seg)
      } catch {
        return null
      }
    } else if (part !== seg) return null
  }
  return params
}

export const ParamsContext = createContext<Record<string, string>>({})
export const useParams = () => useContext(ParamsContext)

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string; children: ReactNode }

export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const href = BASE + to
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e)
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(to)
  }
  return (
    <a href={href} onClick={handle} {...rest}>
      {children}
    </a>
  )
}
