// Tenants, API keys, inboxes and the caller's identity.
import { z } from 'zod'
import { Metadata, Timestamp, listOf, publicId } from './common.js'
import { EffectivePolicies, Policies } from './safety.js'

export const TenantStatus = z.enum(['active', 'suspended'])
export type TenantStatus = z.infer<typeof TenantStatus>

const ApiRate = z.number().int().min(1).max(1_000_000).nullable().optional()
const ApiBurst = z.number().int().min(1).max(1_000_000).nullable().optional()
const NewRecipients = z
  .number()
  .int()
  .min(0)
  .nullable()
  .optional()
  .describe(
    'First-contact limit: recipients this inbox has never been in conversation with, at most this many per rolling day (past it `429 first_contact_limit` with `Retry-After`). Mail to known contacts is not counted.',
  )
const API_RATE_DOC =
  'Requests per second the tenant may make to the HTTP API, all its keys together (a token bucket refilled at this rate; past it `429 rate_limited`). Unset: the deployment default.'
const API_BURST_DOC = 'Requests the tenant may make at once before apiRequestsPerSecond applies (the size of its token bucket). Unset: the deployment default.'

export const TenantLimits = z
  .object({
    maxInboxes: z.number().int().min(0).nullable().optional(),
    maxMessageBytes: z.number().int().min(1024).nullable().optional(),
    sendPerMinute: z.number().int().min(0).nullable().optional(),
    sendPerDay: z.number().int().min(0).nullable().optional(),
    newRecipientsPerDay: NewRecipients,
    receivePerMinute: z.number().int().min(0).nullable().optional(),
    maxStoredBytes: z.number().int().min(0).nullable().optional().describe('Quota: bytes of mail stored.'),
    maxMessagesPerDay: z.number().int().min(0).nullable().optional().describe('Quota: messages received per UTC day.'),
    retentionDays: z.number().int().min(1).max(36500).nullable().optional().describe('Mail older than this is deleted.'),
    apiRequestsPerSecond: ApiRate.describe(API_RATE_DOC),
    apiBurst: ApiBurst.describe(API_BURST_DOC),
  })
  .strict()
  .meta({ id: 'TenantLimits' })
export type TenantLimits = z.infer<typeof TenantLimits>

export const TenantPlacement = z
  .object({
    node: z.string().describe('The worker holding the tenant\'s rows, `host:port`.'),
    shardId: z.string().describe('Its shard (its other tables\' shards sit beside it).'),
    dedicated: z.boolean().describe('True when that shard holds this tenant alone (`mailroom tenant dedicate`).'),
  })
  .meta({ id: 'TenantPlacement' })
export type TenantPlacement = z.infer<typeof TenantPlacement>

export const Tenant = z
  .object({
    id: publicId('tenant'),
    parentId: publicId('tenant').nullable(),
    name: z.string(),
    status: TenantStatus,
    limits: TenantLimits,
    policies: Policies.describe('The policies the tenant set for itself.'),
    parentPolicies: Policies.describe('The policies its ancestors (or the operator) set on it; the tenant cannot change them.'),
    effectivePolicies: EffectivePolicies.optional().describe('The policies in force (the strictest of its own and its ancestors\'). On a single tenant, not in lists.'),
    placement: TenantPlacement.optional().describe('Where its rows live on a Citus cluster. Shown to the operator only, on a single tenant.'),
    metadata: Metadata,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Tenant' })
export type Tenant = z.infer<typeof Tenant>

const TenantName = z.string().trim().min(1).max(200)

export const CreateTenantRequest = z
  .object({ name: TenantName, limits: TenantLimits.optional(), policies: Policies.optional().describe('Policies imposed on the new tenant (its `parentPolicies`).'), metadata: Metadata.optional() })
  .strict()
  .meta({ id: 'CreateTenantRequest' })
export type CreateTenantRequest = z.infer<typeof CreateTenantRequest>

export const CreateTenantResponse = Tenant.extend({
  apiKey: z.string().describe('A tenant key for the new tenant. Shown once.'),
}).meta({ id: 'CreateTenantResponse' })
export type CreateTenantResponse = z.infer<typeof CreateTenantResponse>

export const UpdateTenantRequest = z
  .object({
    name: TenantName.optional(),
    status: TenantStatus.optional(),
    limits: TenantLimits.optional(),
    policies: Policies.optional().describe(
      "Set by the tenant itself: replaces its own policies. Set by an ancestor (or the operator): replaces the policies it imposes on this tenant (`parentPolicies`), which the tenant cannot undo. The strictest of all along the chain applies.",
    ),
    metadata: Metadata.optional(),
  })
  .strict()
  .meta({ id: 'UpdateTenantRequest' })
export type UpdateTenantRequest = z.infer<typeof UpdateTenantRequest>

export const TenantList = listOf(Tenant, 'TenantList')

export const ApiKeyScope = z.enum(['tenant', 'inbox'])
export type ApiKeyScope = z.infer<typeof ApiKeyScope>

export const ApiKey = z
  .object({
    id: publicId('apiKey'),
    tenantId: publicId('tenant'),
    scope: ApiKeyScope,
    inboxId: publicId('inbox').nullable(),
    name: z.string().nullable(),
    prefix: z.string().describe('The public start of the key, to recognise it.'),
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: 'ApiKey' })
export type ApiKey = z.infer<typeof ApiKey>

export const CreateApiKeyRequest = z
  .object({
    scope: ApiKeyScope.default('tenant'),
    inboxId: publicId('inbox').optional().describe('Required when scope is `inbox`.'),
    name: z.string().trim().min(1).max(200).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional().describe('When the key stops working.'),
  })
  .strict()
  .refine((b) => (b.scope === 'inbox') === (b.inboxId !== undefined), {
    message: 'inboxId is required for scope `inbox` and not allowed for scope `tenant`',
    path: ['inboxId'],
  })
  .meta({ id: 'CreateApiKeyRequest' })
export type CreateApiKeyRequest = z.input<typeof CreateApiKeyRequest>

export const CreateApiKeyResponse = ApiKey.extend({
  key: z.string().describe('The secret. Shown once; store it now.'),
}).meta({ id: 'CreateApiKeyResponse' })
export type CreateApiKeyResponse = z.infer<typeof CreateApiKeyResponse>

export const ApiKeyList = listOf(ApiKey, 'ApiKeyList')

export const Inbox = z
  .object({
    id: publicId('inbox'),
    tenantId: publicId('tenant'),
    address: z.string(),
    displayName: z.string().nullable(),
    metadata: Metadata,
    policies: Policies.describe("The inbox's own policies (its tenant's may be stricter: see effectivePolicies)."),
    effectivePolicies: EffectivePolicies.optional().describe('The policies in force for this inbox. On a single inbox, not in lists.'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Inbox' })
export type Inbox = z.infer<typeof Inbox>

export const LocalPart = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9](?:[a-z0-9._+-]*[a-z0-9])?$/, 'letters, digits and . _ + - (not at the ends)')
  .refine((s) => !s.includes('..'), 'no consecutive dots')

export const CreateInboxRequest = z
  .object({
    name: LocalPart.optional().describe('Local part of the address; generated when omitted.'),
    displayName: z.string().trim().max(200).optional(),
    metadata: Metadata.optional(),
    createKey: z.boolean().default(false).describe('Also mint an inbox key for the new inbox (shown once).'),
    policies: Policies.optional(),
    domain: z
      .string()
      .trim()
      .toLowerCase()
      .max(253)
      .optional()
      .describe("A verified custom domain of this tenant (`POST /v1/domains`); omitted: the deployment's domain."),
  })
  .strict()
  .meta({ id: 'CreateInboxRequest' })
export type CreateInboxRequest = z.input<typeof CreateInboxRequest>

export const CreateInboxResponse = Inbox.extend({
  apiKey: z.string().optional().describe('Inbox key, when `createKey` was true. Shown once.'),
}).meta({ id: 'CreateInboxResponse' })
export type CreateInboxResponse = z.infer<typeof CreateInboxResponse>

export const UpdateInboxRequest = z
  .object({
    displayName: z.string().trim().max(200).nullable().optional(),
    metadata: Metadata.optional(),
    policies: Policies.optional().describe("Replaces the inbox's own policies (a tenant key only)."),
  })
  .strict()
  .meta({ id: 'UpdateInboxRequest' })
export type UpdateInboxRequest = z.infer<typeof UpdateInboxRequest>

export const InboxList = listOf(Inbox, 'InboxList')

export const Me = z
  .object({
    keyId: publicId('apiKey').nullable().describe('null for the operator key.'),
    scope: z.enum(['tenant', 'inbox', 'operator']),
    tenant: Tenant,
    inbox: Inbox.nullable().describe('For an inbox key: its inbox.'),
  })
  .meta({ id: 'Me' })
export type Me = z.infer<typeof Me>

export const InboxLimits = z
  .object({
    sendPerMinute: z.number().int().min(0).nullable().optional(),
    sendPerDay: z.number().int().min(0).nullable().optional(),
    newRecipientsPerDay: NewRecipients,
    receivePerMinute: z.number().int().min(0).nullable().optional(),
    retentionDays: z.number().int().min(1).max(36500).nullable().optional(),
    apiRequestsPerSecond: ApiRate.describe('Requests per second this inbox\'s keys may make (on top of its tenant\'s limit).'),
    apiBurst: ApiBurst.describe('Requests this inbox\'s keys may make at once before apiRequestsPerSecond applies.'),
  })
  .strict()
  .meta({ id: 'InboxLimits' })
export type InboxLimits = z.infer<typeof InboxLimits>
