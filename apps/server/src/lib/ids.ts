// Public ids: a type prefix and the row's uuid as 32 hex characters (`inb_3f2a...`).
import { randomUUID } from 'node:crypto'
import { ID_PREFIXES, type IdKind } from '@mailroom/contract'

export const newUuid = (): string => randomUUID()

/** A uuid as 32 hex characters (the body of a public id). */
export const hexOfUuid = (uuid: string): string => uuid.replaceAll('-', '')

/** The uuid written as 32 hex characters, or null when it is not that. */
export function uuidOfHex(hex: string): string | null {
  if (!/^[0-9a-f]{32}$/.test(hex)) return null
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export function toPublicId(kind: IdKind, uuid: string): string {
  return `${ID_PREFIXES[kind]}_${hexOfUuid(uuid)}`
}

/** The uuid behind a public id, or null when it is not a well-formed id of that kind. */
export function fromPublicId(kind: IdKind, id: string): string | null {
  const prefix = `${ID_PREFIXES[kind]}_`
  if (!id.startsWith(prefix)) return null
  return uuidOfHex(id.slice(prefix.length))
}
