// Path building: ids are checked and encoded so that a bad id can never reach another route.

/** One path segment from an id; an empty or non-string id is a programming error, not a request. */
export function seg(id: unknown, what: string): string {
  if (typeof id !== 'string' || id.trim() === '') {
    throw new TypeError(`${what} must be a non-empty string (got ${id === '' ? 'an empty string' : typeof id})`)
  }
  return encodeURIComponent(id)
}

/** An instant as the API wants it: RFC 3339. */
export function isoTime(value: string | Date | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value
}

/** A UTC day as the API wants it: `YYYY-MM-DD` (a Date is taken as its UTC day). */
export function isoDay(value: string | Date): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : value
}
