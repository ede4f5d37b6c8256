// Server-Sent Events wire format (WHATWG HTML, "Parsing an event stream"), over a fetch body stream.

/** One dispatched event: its `event:` name (default `message`), `data:` lines joined, and `id:`. */
export interface SseMessage {
  /** The last event id seen so far on the stream (the spec's "last event ID buffer"). */
  id: string | undefined
  event: string
  data: string
}

/**
 * What a stream told its reader beyond the events, kept across connections: the last event id (to
 * send as `Last-Event-ID` when reconnecting) and the `retry:` delay in milliseconds.
 */
export interface SseState {
  lastEventId?: string | undefined
  retry?: number | undefined
}

/**
 * Lines of a UTF-8 byte stream. A line ends at CRLF, LF or CR; a CR at the end of one chunk followed
 * by an LF at the start of the next is one line end.
 */
async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader()
  const decoder = new TextDecoder('utf-8')
  let buffer = ''
  let skipLF = false
  let first = true
  try {
    for (;;) {
      const { done, value } = await reader.read()
      let text = done ? decoder.decode() : decoder.decode(value, { stream: true })
      if (first && text.length) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
        first = false
      }
      let start = 0
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i)
        if (c === 10 /* LF */ && skipLF) {
          skipLF = false
          start = i + 1
          continue
        }
        skipLF = false
        if (c === 10 || c === 13) {
          yield buffer + text.slice(start, i)
          buffer = ''
          start = i + 1
          skipLF = c === 13
        }
      }
      buffer += text.slice(start)
      // An unterminated last line is dropped, like a browser does: the event it belonged to is incomplete.
      if (done) return
    }
  } finally {
    // Stopped early (the consumer broke out) or failed: let go of the connection.
    reader.cancel().catch(() => {})
  }
}

/**
 * The events of an SSE stream, in order. Comments (`: keep-alive`) are skipped; an event without
 * `data:` is not dispatched (its `id:` still counts). `state` is updated as fields arrive (`id:` on
 * dispatch, `retry:` at once). Ends when the stream ends; a read error (the connection dropped,
 * the signal aborted) is thrown to the caller.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>, state: SseState = {}): AsyncGenerator<SseMessage, void, undefined> {
  let id = state.lastEventId
  let event = ''
  let data: string[] = []
  for await (const line of lines(body)) {
    if (line === '') {
      state.lastEventId = id
      if (data.length) yield { id, event: event || 'message', data: data.join('\n') }
      event = ''
      data = []
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') data.push(value)
    else if (field === 'event') event = value
    else if (field === 'id') {
      if (!value.includes('\0')) id = value
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) state.retry = Number(value)
    }
  }
}
