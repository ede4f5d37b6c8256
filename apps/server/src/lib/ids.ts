// Public ids: a type prefix and the row's uuid as 32 hex characters (`inb_3f2a...`).
import { randomUUID } from 'node:crypto'
import { ID_PREFIXES, type IdKind } from '@mailroom/contract'

export const newUuid = (): string => randomUUID()

export function toPublicId(kind: IdKind, uuid: string): string {
  return `${ID_PREFIXES[kind]}_${uuid.replaceAll('-', '')}`
}

/** The uuid behind a public id, or null when it is not a well-formed id of that kind. */
export function fromPublicId(kind: IdKind, id: string): string | null {
  const prefix = `${ID_PREFIXES[kind]}_`
  if (!id.startsWith(prefix)) return null
  const hex = id.slice(prefix.length)
  if (!/^[0-9a-f]{32}$/.test(hex)) return null
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
