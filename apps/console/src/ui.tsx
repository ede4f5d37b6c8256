// Small building blocks shared by the pages: the signed-in context, data loading, cursor paging,
// confirmations, copy buttons, secrets shown once, and formatting.
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
  type ButtonHTMLAttributes,
  type FormEvent,
  type ReactNode,
} from 'react'
import type { Mailroom, Page } from '@mailroom/sdk'
import { describeError, isNotFound, type SessionInfo } from './api'

export interface Console {
  session: SessionInfo
  /** The SDK client of this session, acting inside `actingTenantId` when set. */
  api: Mailroom
  /** The tenant the console works in: the session's own, or a descendant it acts inside. */
  tenantId: string | null
  actingTenantId: string | null
  actAs(tenantId: string | null): void
  notify(text: string, kind?: 'ok' | 'error'): void
}

export const ConsoleContext = createContext<Console | null>(null)

export function useConsole(): Console {
  const c = useContext(ConsoleContext)
  if (!c) throw new Error('useConsole outside the signed-in app')
  return c
}

export interface Async<T> {
  data: T | undefined
  error: unknown
  loading: boolean
  reload(): void
  set(data: T): void
}

/** Runs `load` when `deps` change (and on reload); a newer run wins over an older one. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true })
  const [tick, setTick] = useState(0)
  useEffect(() => {
    const ctrl = new AbortController()
    setState((s) => ({ ...s, loading: true, error: undefined }))
    load(ctrl.signal).then(
      (data) => !ctrl.signal.aborted && setState({ data, error: undefined, loading: false }),
      (error: unknown) => !ctrl.signal.aborted && setState({ data: undefined, error, loading: false }),
    )
    return () => ctrl.abort()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick])
  return {
    ...state,
    reload: useCallback(() => setTick((t) => t + 1), []),
    set: useCallback((data: T) => setState({ data, error: undefined, loading: false }), []),
  }
}

/** Cursor pages: the cursors of the pages before this one are kept so Previous works. */
export function usePager<T>(fetchPage: (after: string | undefined, signal: AbortSignal) => Promise<Page<T>>, deps: unknown[]) {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined])
  const after = stack[stack.length - 1]
  useEffect(() => setStack([undefined]), deps) // eslint-disable-line react-hooks/exhaustive-deps
  const page = useAsync((signal) => fetchPage(after, signal), [...deps, after])
  return {
    ...page,
    pageNumber: stack.length,
    next: page.data?.nextCursor ? () => setStack((s) => [...s, page.data!.nextCursor!]) : undefined,
    previous: stack.length > 1 ? () => setStack((s) => s.slice(0, -1)) : undefined,
    first: () => setStack([undefined]),
  }
}

export function Pager({ pageNumber, next, previous, label }: { pageNumber: number; next: (() => void) | undefined; previous: (() => void) | undefined; label: string }) {
  if (!next && !previous) return null
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={previous} disabled={!previous}>
        ← Newer
      </button>
      <span aria-live="polite">Page {pageNumber}</span>
      <button type="button" onClick={next} disabled={!next}>
        Older →
      </button>
    </nav>
  )
}

export interface Column<T> {
  header: string
  /** The header is for screen readers only (a column of buttons). */
  hideHeader?: boolean
  className?: string
  cell: (row: T) => ReactNode
}

type PagerState<T> = ReturnType<typeof usePager<T>>

/** Rows as a table: one column per `columns` entry, a caption for screen readers. */
export function DataTable<T>({ what, columns, rows, rowKey, testId }: { what: string; columns: Column<T>[]; rows: T[]; rowKey: (row: T) => string; testId?: string | undefined }) {
  return (
    <div className="table-wrap">
      <table data-testid={testId}>
        <caption className="visually-hidden">{what[0]!.toUpperCase() + what.slice(1)}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.header} scope="col">
                {c.hideHeader ? <span className="visually-hidden">{c.header}</span> : c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c) => (
                <td key={c.header} className={c.className}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** A page of a list as a table, with its loading and failure states, "empty" text and paging. */
export function PagedTable<T>({
  pager,
  what,
  columns,
  rowKey,
  empty,
  testId,
}: {
  pager: PagerState<T>
  what: string
  columns: Column<T>[]
  rowKey: (row: T) => string
  empty: string
  testId?: string
}) {
  return (
    <Loaded state={pager} what={what}>
      {(page) =>
        page.data.length === 0 && pager.pageNumber === 1 ? (
          <p className="muted">{empty}</p>
        ) : (
          <>
            <DataTable what={what} columns={columns} rows={page.data} rowKey={rowKey} testId={testId} />
            <Pager label={what} pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
          </>
        )
      }
    </Loaded>
  )
}

export function Loaded<T>({ state, children, what }: { state: Async<T>; children: (data: T) => ReactNode; what: string }) {
  if (state.error !== undefined) {
    if (isNotFound(state.error)) {
      return (
        <div className="notice" role="alert">
          <h2>Not found</h2>
          <p>No {what} with this id here. It may have been deleted, or it belongs to a tenant this session cannot see.</p>
        </div>
      )
    }
    return (
      <div className="notice error" role="alert">
        Could not load the {what}: {describeError(state.error)}{' '}
        <button type="button" onClick={state.reload}>
          Try again
        </button>
      </div>
    )
  }
  if (state.data === undefined) {
    return (
      <p className="muted" role="status">
        Loading…
      </p>
    )
  }
  return <>{children(state.data)}</>
}

/** A button that runs an async action, shows it is busy, and reports a failure. */
export function ActionButton({
  action,
  children,
  confirm,
  danger,
  ...rest
}: Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'onClick'> & { action: () => Promise<unknown>; confirm?: string; danger?: boolean }) {
  const { notify } = useConsole()
  const [busy, setBusy] = useState(false)
  const [asking, setAsking] = useState(false)
  const run = async () => {
    setAsking(false)
    setBusy(true)
    try {
      await action()
    } catch (err) {
      notify(describeError(err), 'error')
    } finally {
      setBusy(false)
    }
  }
  return (
    <>
      <button type="button" className={danger ? 'danger' : undefined} disabled={busy || rest.disabled} aria-busy={busy} onClick={() => (confirm ? setAsking(true) : void run())} {...rest}>
        {children}
      </button>
      {asking && confirm && <Confirm text={confirm} danger={danger} onConfirm={run} onCancel={() => setAsking(false)} />}
    </>
  )
}

/** A modal confirmation (the native <dialog>: focus is trapped, Escape cancels). */
export function Confirm({ text, onConfirm, onCancel, danger }: { text: string; onConfirm: () => void; onCancel: () => void; danger?: boolean | undefined }) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  useEffect(() => {
    const d = ref.current
    if (d && !d.open) d.showModal()
  }, [])
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={onCancel} className="confirm">
      <p id={titleId}>{text}</p>
      <div className="row end">
        <button type="button" onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={onConfirm}>
          Confirm
        </button>
      </div>
    </dialog>
  )
}

export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [done, setDone] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value)
      setDone(true)
      setTimeout(() => setDone(false), 1500)
    } catch {
      window.prompt('Copy this value', value)
    }
  }
  return (
    <button type="button" className="small" onClick={() => void copy()} aria-label={`${label}: ${value.length > 40 ? value.slice(0, 40) + '…' : value}`}>
      {done ? 'Copied' : label}
    </button>
  )
}

/** A secret the server shows once: displayed with a copy button until dismissed. */
export function SecretOnce({ title, value, onDone }: { title: string; value: string; onDone: () => void }) {
  return (
    <div className="secret" role="alert">
      <strong>{title}</strong>
      <p>Shown once: copy it now. Mailroom keeps only a hash.</p>
      <div className="row">
        <code className="break" data-testid="secret-value">
          {value}
        </code>
        <CopyButton value={value} />
        <button type="button" className="small" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  )
}

/** A labelled form field. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: (id: string) => ReactNode }) {
  const id = useId()
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint && <small className="muted">{hint}</small>}
    </div>
  )
}

/** A form whose submit runs an async action; its error is shown inside the form. */
export function AsyncForm({ onSubmit, children, label, className }: { onSubmit: (data: FormData) => Promise<unknown>; children: ReactNode; label: string; className?: string }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const form = e.currentTarget
    setBusy(true)
    setError(null)
    try {
      await onSubmit(new FormData(form))
    } catch (err) {
      setError(describeError(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form aria-label={label} onSubmit={(e) => void submit(e)} className={className ?? 'form'} aria-busy={busy}>
      {children}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

export const text = (f: FormData, name: string): string => String(f.get(name) ?? '').trim()
export const optionalText = (f: FormData, name: string): string | undefined => text(f, name) || undefined
export const optionalInt = (f: FormData, name: string): number | null => {
  const v = text(f, name)
  if (v === '') return null
  const n = Number(v)
  if (!Number.isInteger(n)) throw new Error(`${name}: a whole number, or empty for none`)
  return n
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—'
  return dateFormat.format(new Date(iso))
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <>—</>
  return (
    <time dateTime={iso} title={iso}>
      {formatDate(iso)}
    </time>
  )
}

export function Badge({ children, tone }: { children: ReactNode; tone?: 'ok' | 'warn' | 'bad' | 'info' | undefined }) {
  return <span className={`badge ${tone ?? ''}`}>{children}</span>
}

const TONES: Record<string, 'ok' | 'warn' | 'bad' | 'info'> = {
  active: 'ok',
  enabled: 'ok',
  verified: 'ok',
  delivered: 'ok',
  sent: 'ok',
  succeeded: 'ok',
  pass: 'ok',
  received: 'info',
  queued: 'info',
  sending: 'info',
  pending: 'warn',
  deferred: 'warn',
  held: 'warn',
  unchecked: 'warn',
  softfail: 'warn',
  neutral: 'warn',
  none: 'warn',
  suspended: 'bad',
  disabled: 'bad',
  bounced: 'bad',
  suppressed: 'bad',
  failed: 'bad',
  fail: 'bad',
  missing: 'bad',
  mismatch: 'bad',
  error: 'bad',
  revoked: 'bad',
  high: 'bad',
  medium: 'warn',
  low: 'ok',
}

export const Status = ({ value }: { value: string }) => <Badge tone={TONES[value]}>{value}</Badge>

export function PageHeader({ title, children, subtitle }: { title: string; subtitle?: ReactNode; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Mailroom console`
  }, [title])
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
      </div>
      {children && <div className="row">{children}</div>}
    </header>
  )
}
