// LISTEN on a connection of its own that survives the database going away. postgres.js's own
// sql.listen re-listens once when its connection closes, and if the database is still down at that
// moment it gives up silently: the process would never hear another notification. Here the
// connection is re-opened and every channel re-listened until it works, and whoever asked is told
// (`onReconnect`), because notifications sent while the connection was down are lost: waiters rescan.
// `onDisconnect` hears the moment the connection is lost (what is kept on the strength of
// notifications stops being trusted until onReconnect).
import postgres from 'postgres'

type Handler = (payload: string) => void

export interface Listener {
  listen(channel: string, onPayload: Handler, onReconnect?: () => void, onDisconnect?: () => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

/** Reconnect delays: short, so notifications resume within a second or two of the database. */
export const reconnectBackoff = (retries: number) => Math.min(0.05 * 2 ** retries, 1)

export function postgresListener(url: string, opts: { retryMs?: number; onError?: (err: unknown) => void } = {}): Listener {
  const channels = new Map<string, Set<Handler>>()
  const reconnectHooks = new Set<() => void>()
  const disconnectHooks = new Set<() => void>()
  let closing = false
  let relistening = false
  const retryMs = opts.retryMs ?? 500

  const sql = postgres(url, {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    fetch_types: false,
    connect_timeout: 10,
    backoff: reconnectBackoff,
    onnotice: () => {},
    connection: { application_name: 'mailroom-listen' },
    onnotify: (channel: string, payload: string) => {
      for (const h of channels.get(channel) ?? []) h(payload)
    },
    onclose: () => {
      if (closing) return
      for (const h of disconnectHooks) h()
      if (channels.size > 0) void relisten()
    },
  } as postgres.Options<Record<string, never>>)

  const listenSql = (channel: string) => sql.unsafe(`listen "${channel.replace(/"/g, '""')}"`)

  async function relisten(): Promise<void> {
    if (relistening) return
    relistening = true
    try {
      while (!closing) {
        try {
          for (const channel of channels.keys()) await listenSql(channel)
          break
        } catch (err) {
          opts.onError?.(err)
          await new Promise((r) => setTimeout(r, retryMs).unref?.())
        }
      }
    } finally {
      relistening = false
    }
    if (!closing) for (const h of reconnectHooks) h()
  }

  return {
    async listen(channel, onPayload, onReconnect, onDisconnect) {
      let set = channels.get(channel)
      if (!set) {
        channels.set(channel, (set = new Set()))
        try {
          await listenSql(channel)
        } catch (err) {
          // Not listening: a later call tries again (instead of finding the channel and trusting it).
          if (set.size === 0 && channels.get(channel) === set) channels.delete(channel)
          throw err
        }
      }
      set.add(onPayload)
      if (onReconnect) reconnectHooks.add(onReconnect)
      if (onDisconnect) disconnectHooks.add(onDisconnect)
      return async () => {
        set.delete(onPayload)
        if (onReconnect) reconnectHooks.delete(onReconnect)
        if (onDisconnect) disconnectHooks.delete(onDisconnect)
        if (set.size === 0 && channels.get(channel) === set) {
          channels.delete(channel)
          await sql.unsafe(`unlisten "${channel.replace(/"/g, '""')}"`).catch(() => {})
        }
      }
    },
    async close() {
      closing = true
      await sql.end({ timeout: 5 })
    },
  }
}
