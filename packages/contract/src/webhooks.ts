// Webhook endpoints (Standard Webhooks signing), their deliveries and delivery attempts.
import { z } from 'zod'
import { Timestamp, listOf, publicId } from './common.js'
import { EventType } from './messages.js'

export const WebhookStatus = z.enum(['enabled', 'disabled'])
export type WebhookStatus = z.infer<typeof WebhookStatus>

export const WebhookPayloadMode = z
  .enum(['full', 'summary'])
  .describe('`full` (default): message events carry the whole parsed message, so the receiver needs no fetch.')

export const Webhook = z
  .object({
    id: publicId('webhook'),
    url: z.string(),
    inboxId: publicId('inbox').nullable().describe('Only this inbox\'s events; null: the whole tenant.'),
    eventTypes: z.array(EventType).describe('Event types sent to this endpoint; empty: all.'),
    payload: WebhookPayloadMode,
    description: z.string().nullable(),
    status: WebhookStatus,
    disabledReason: z.string().nullable(),
    disabledAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Webhook' })
export type Webhook = z.infer<typeof Webhook>

const WebhookUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s)
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password
    } catch {
      return false
    }
  }, 'must be an http(s) URL without credentials')

export const CreateWebhookRequest = z
  .object({
    url: WebhookUrl,
    inboxId: publicId('inbox').optional(),
    eventTypes: z.array(EventType).max(50).default([]),
    payload: WebhookPayloadMode.default('full'),
    description: z.string().trim().max(500).optional(),
  })
  .strict()
  .meta({ id: 'CreateWebhookRequest' })
export type CreateWebhookRequest = z.input<typeof CreateWebhookRequest>

export const CreateWebhookResponse = Webhook.extend({
  secret: z.string().describe('The signing secret (`whsec_...`, Standard Webhooks). Shown once.'),
}).meta({ id: 'CreateWebhookResponse' })
export type CreateWebhookResponse = z.infer<typeof CreateWebhookResponse>

export const UpdateWebhookRequest = z
  .object({
    url: WebhookUrl.optional(),
    eventTypes: z.array(EventType).max(50).optional(),
    payload: WebhookPayloadMode.optional(),
    description: z.string().trim().max(500).nullable().optional(),
    status: WebhookStatus.optional().describe('`enabled` re-enables a disabled endpoint; its pending deliveries resume.'),
  })
  .strict()
  .meta({ id: 'UpdateWebhookRequest' })
export type UpdateWebhookRequest = z.infer<typeof UpdateWebhookRequest>

export const WebhookList = listOf(Webhook, 'WebhookList')

export const WebhookDeliveryStatus = z.enum(['pending', 'sending', 'succeeded', 'failed'])

export const WebhookAttempt = z
  .object({
    attempt: z.number().int(),
    at: Timestamp,
    durationMs: z.number().int(),
    statusCode: z.number().int().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'WebhookAttempt' })

export const WebhookDelivery = z
  .object({
    id: publicId('webhookDelivery').describe('Also the `webhook-id` header: stable across retries and replays.'),
    webhookId: publicId('webhook'),
    eventId: z.string(),
    eventType: EventType,
    status: WebhookDeliveryStatus,
    attempts: z.number().int(),
    nextAttemptAt: Timestamp.nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    succeededAt: Timestamp.nullable(),
    createdAt: Timestamp,
    attemptLog: z.array(WebhookAttempt).describe('The latest attempts, newest first (at most 20).'),
  })
  .meta({ id: 'WebhookDelivery' })
export type WebhookDelivery = z.infer<typeof WebhookDelivery>

export const WebhookDeliveryList = listOf(WebhookDelivery, 'WebhookDeliveryList')
