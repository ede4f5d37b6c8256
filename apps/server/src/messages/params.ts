// Path parameters and the inbox check every /v1/inboxes/{id}/... route shares.
import { z } from 'zod'
import type { Deps } from '../deps.js'
import { notFound } from '../errors.js'
import { pathId } from '../http/route.js'
import { withTenant, type TenantScope } from '../db/scope.js'
import type { Tx } from '../db/client.js'
import type { Cipher } from '../crypto/service.js'
import { getInbox } from '../inboxes/service.js'

export const InboxParam = z.object({ id: z.string().describe('Inbox id (`inb_...`).') })
export const MessageParams = InboxParam.extend({ messageId: z.string().describe('Message id (`msg_...`).') })
export const AttachmentParams = MessageParams.extend({ attachmentId: z.string().describe('Attachment id (`att_...`).') })
export const ThreadParams = InboxParam.extend({ threadId: z.string().describe('Thread id (`thr_...`).') })

/** Runs `fn` in the caller's scope once the inbox is known to be visible to it (else the 404 a missing inbox gets). */
export function inInbox<T>(deps: Pick<Deps, 'database' | 'crypto'>, scope: TenantScope, publicInboxId: string, fn: (tx: Tx, inboxId: string, cipher: Cipher) => Promise<T>): Promise<T> {
  const inboxId = pathId('inbox', publicInboxId, 'inbox')
  return withTenant(deps.database, scope, async (tx) => {
    if (!(await getInbox(tx, inboxId))) throw notFound('inbox')
    return fn(tx, inboxId, await deps.crypto.cipher(tx, scope.tenantId))
  })
}
