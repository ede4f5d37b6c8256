// Sign-in: a key pasted once becomes a server-side session (HttpOnly cookie). The key is sent once
// and never kept in the page or the browser's storage.
import { useState, type FormEvent } from 'react'
import { signIn, type SessionInfo } from '../api'

export function SignIn({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const form = e.currentTarget
    const input = form.elements.namedItem('key') as HTMLInputElement
    setBusy(true)
    setError(null)
    try {
      const session = await signIn(input.value.trim())
      input.value = ''
      onSignedIn(session)
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
      input.focus()
    } finally {
      setBusy(false)
    }
  }
  return (
    <main className="center" id="main">
      <form className="signin" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h1 id="signin-title">Mailroom console</h1>
        <p className="muted">Sign in with a tenant key (mr_tk_…) or the operator key. It becomes a session in a cookie; the key is not stored in this browser.</p>
        <label htmlFor="key">Key</label>
        <input id="key" name="key" type="password" autoComplete="off" spellCheck={false} required aria-describedby={error ? 'signin-error' : undefined} aria-invalid={Boolean(error)} />
        {error && (
          <p id="signin-error" className="error-text" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
