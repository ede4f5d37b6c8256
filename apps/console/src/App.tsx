// The shell: sign-in when there is no session; otherwise the header (who, acting in which tenant,
// sign out), the navigation built from the route table, and the page of the current path.
import { Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { clientFor, currentSession, describeError, onSessionEnded, signOut, type SessionInfo } from './api'
import { Link, ParamsContext, match, navigate, useLocation } from './router'
import { NAV_SECTIONS, routes } from './routes'
import { ConsoleContext, type Console } from './ui'
import { SignIn } from './pages/SignIn'

const ACT_AS_KEY = 'mailroom.console.actAs'

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined)
  const [bootError, setBootError] = useState<string | null>(null)
  useEffect(() => {
    currentSession().then(setSession, (err: unknown) => setBootError(describeError(err)))
    return onSessionEnded(() => setSession(null))
  }, [])
  if (bootError) {
    return (
      <main className="center" id="main">
        <p role="alert">The console could not reach the server: {bootError}</p>
      </main>
    )
  }
  if (session === undefined) {
    return (
      <main className="center" id="main">
        <p role="status">Loading…</p>
      </main>
    )
  }
  if (session === null) return <SignIn onSignedIn={setSession} />
  return <SignedIn session={session} onSignedOut={() => setSession(null)} />
}

interface Toast {
  id: number
  text: string
  kind: 'ok' | 'error'
}

function SignedIn({ session, onSignedOut }: { session: SessionInfo; onSignedOut: () => void }) {
  const loc = useLocation()
  // The tenant acted inside is not a secret; it lives for this tab only.
  const [actingTenantId, setActing] = useState<string | null>(() => sessionStorage.getItem(ACT_AS_KEY))
  const [toasts, setToasts] = useState<Toast[]>([])
  const [menuOpen, setMenuOpen] = useState(false)
  const mainRef = useRef<HTMLElement>(null)

  const notify = useCallback((text: string, kind: 'ok' | 'error' = 'ok') => {
    const id = Date.now() + Math.random()
    setToasts((t) => [...t, { id, text, kind }])
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 4000)
  }, [])

  const actAs = useCallback((tenantId: string | null) => {
    if (tenantId) sessionStorage.setItem(ACT_AS_KEY, tenantId)
    else sessionStorage.removeItem(ACT_AS_KEY)
    setActing(tenantId)
    navigate('/')
  }, [])

  const ctx: Console = useMemo(
    () => ({
      session,
      api: clientFor(actingTenantId),
      tenantId: actingTenantId ?? session.tenantId,
      actingTenantId,
      actAs,
      notify,
    }),
    [session, actingTenantId, actAs, notify],
  )

  const found = useMemo(() => {
    for (const r of routes) {
      const params = match(r.pattern, loc.path)
      if (params) return { route: r, params }
    }
    return null
  }, [loc.path])

  // After a navigation, focus moves to the page (screen readers announce it; keyboard users start there).
  useEffect(() => {
    setMenuOpen(false)
    mainRef.current?.focus({ preventScroll: true })
  }, [loc.path])

  const doSignOut = async () => {
    try {
      await signOut()
    } finally {
      sessionStorage.removeItem(ACT_AS_KEY)
      onSignedOut()
      navigate('/', { replace: true })
    }
  }

  const needsTenantButNone = found?.route.needsTenant && !ctx.tenantId
  const Page = found?.route.page
  return (
    <ConsoleContext.Provider value={ctx}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button type="button" className="menu-button" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen((o) => !o)}>
          Menu
        </button>
        <Link to="/" className="brand">
          Mailroom
        </Link>
        <div className="who" data-testid="who">
          {session.scope === 'operator' ? 'Operator' : <span className="self" title="your tenant">{session.tenantId}</span>}
          {actingTenantId && (
            <span className="acting">
              acting in <code>{actingTenantId}</code>{' '}
              <button type="button" className="small" onClick={() => actAs(null)}>
                Leave
              </button>
            </span>
          )}
        </div>
        <button type="button" onClick={() => void doSignOut()}>
          Sign out
        </button>
      </header>
      <div className="layout">
        <nav id="nav" aria-label="Console" className={menuOpen ? 'open' : undefined}>
          {NAV_SECTIONS.map((section) => (
            <div key={section}>
              <h2 className="nav-section">{section}</h2>
              <ul>
                {routes
                  .filter((r) => r.nav?.section === section)
                  .map((r) => {
                    const active = found?.route.id === r.id || (r.pattern !== '/' && loc.path.startsWith(r.pattern + '/'))
                    return (
                      <li key={r.id}>
                        <Link to={r.pattern} aria-current={active ? 'page' : undefined}>
                          {r.nav!.label}
                        </Link>
                      </li>
                    )
                  })}
              </ul>
            </div>
          ))}
        </nav>
        <main id="main" ref={mainRef} tabIndex={-1}>
          {!found || !Page ? (
            <div className="notice" role="alert">
              <h1>Not found</h1>
              <p>
                There is no console page at this address. <Link to="/">Go to the overview</Link>.
              </p>
            </div>
          ) : needsTenantButNone ? (
            <OperatorPick />
          ) : (
            <ParamsContext.Provider value={found.params}>
              <Suspense fallback={<p role="status">Loading…</p>}>
                <Page key={`${actingTenantId ?? ''}:${loc.path}`} />
              </Suspense>
            </ParamsContext.Provider>
          )}
        </main>
      </div>
      <div className="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
            {t.text}
          </div>
        ))}
      </div>
    </ConsoleContext.Provider>
  )
}

/** The operator key works inside one tenant at a time: it names the tenant first. */
function OperatorPick() {
  return (
    <div className="notice">
      <h1>Choose a tenant</h1>
      <p>
        The operator key acts inside one tenant at a time. Open <Link to="/tenants">Tenants</Link> for the top-level tenants: act inside one, suspend,
        resume or delete one, or create one.
      </p>
    </div>
  )
}
