// The SDK's own wire types must not drift from @mailroom/contract. The type assertions are checked by
// `tsc --noEmit -p packages/sdk`; the runtime half parses the test fixtures with the contract schemas.
import * as contract from '@mailroom/contract'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type * as sdk from '../src/types.js'
import {
  apiKeyFixture,
  auditFixture,
  deliveryFixture,
  domainFixture,
  eventFixture,
  inboxFixture,
  inboxLimitsFixture,
  messageFixture,
  senderRuleFixture,
  sendingStateFixture,
  sentFixture,
  summaryFixture,
  suppressionFixture,
  tenantFixture,
  threadFixture,
  usageFixture,
  webhookDeliveryFixture,
  webhookFixture,
} from './helpers.js'

/** An intersection written out as one object type, for exact comparison. */
type Flat<T> = { [K in keyof T]: T[K] }
/** What a schema parses to / accepts (zod's own `z.infer` / `z.input`; zod is not a dependency of this package). */
type Out<S> = S extends { _zod: { output: infer O } } ? O : never
type In<S> = S extends { _zod: { input: infer I } } ? I : never

describe('types mirror the contract', () => {
  it('resources are the same types', () => {
    expectTypeOf<sdk.Tenant>().toEqualTypeOf<contract.Tenant>()
    expectTypeOf<sdk.TenantLimits>().toEqualTypeOf<contract.TenantLimits>()
    expectTypeOf<sdk.CreatedTenant>().toEqualTypeOf<contract.CreateTenantResponse>()
    expectTypeOf<sdk.ApiKey>().toEqualTypeOf<contract.ApiKey>()
    expectTypeOf<sdk.CreatedApiKey>().toEqualTypeOf<contract.CreateApiKeyResponse>()
    expectTypeOf<sdk.InboxData>().toEqualTypeOf<contract.Inbox>()
    expectTypeOf<Flat<sdk.InboxData & { apiKey?: string }>>().toEqualTypeOf<contract.CreateInboxResponse>()
    expectTypeOf<sdk.Me>().toEqualTypeOf<contract.Me>()
    expectTypeOf<sdk.ApiErrorCode>().toEqualTypeOf<contract.ErrorCode>()
    expectTypeOf<sdk.Page<sdk.Tenant>>().toEqualTypeOf<contract.Page<contract.Tenant>>()
    expectTypeOf<sdk.EmailAddress>().toEqualTypeOf<contract.EmailAddress>()
    expectTypeOf<sdk.AttachmentInfo>().toEqualTypeOf<contract.AttachmentInfo>()
    expectTypeOf<sdk.Message>().toEqualTypeOf<contract.Message>()
    expectTypeOf<sdk.MessageSummary>().toEqualTypeOf<contract.MessageSummary>()
    expectTypeOf<sdk.Thread>().toEqualTypeOf<contract.Thread>()
    expectTypeOf<Flat<sdk.ThreadWithMessages>>().toEqualTypeOf<contract.ThreadWithMessages>()
    expectTypeOf<sdk.MatchMode>().toEqualTypeOf<contract.MatchMode>()
    expectTypeOf<Flat<sdk.ReceivedMessage>>().toEqualTypeOf<Flat<contract.WaitResponse['message'] & { cursor: contract.WaitResponse['cursor'] }>>()
    expectTypeOf<sdk.EventType>().toEqualTypeOf<contract.EventType>()
    expectTypeOf<sdk.MailroomEvent>().toEqualTypeOf<contract.Event>()
    expectTypeOf<sdk.MailboxCounts>().toEqualTypeOf<Flat<contract.MailboxCounts>>()
    expectTypeOf<sdk.Contact>().toEqualTypeOf<contract.Contact>()
    expectTypeOf<sdk.Page<sdk.Contact>>().toEqualTypeOf<Out<typeof contract.ContactList>>()
    expectTypeOf<sdk.Page<sdk.MessageSummary>>().toEqualTypeOf<Out<typeof contract.SearchResults>>()
    expectTypeOf<keyof sdk.SearchParams>().toEqualTypeOf<Exclude<keyof contract.SearchQuery, 'after'>>()
    expectTypeOf<keyof sdk.UpdateMessageParams>().toEqualTypeOf<keyof contract.UpdateMessageRequest>()
    expectTypeOf<keyof sdk.UpdateContactParams>().toEqualTypeOf<keyof contract.UpdateContactRequest>()
    expectTypeOf<keyof sdk.ContactListParams>().toEqualTypeOf<Exclude<keyof contract.ContactListQuery, 'after'>>()
  })

  it('sending: deliveries, suppressions, limits, sending state', () => {
    expectTypeOf<sdk.DeliveryStatus>().toEqualTypeOf<contract.DeliveryStatus>()
    expectTypeOf<sdk.Delivery>().toEqualTypeOf<contract.Delivery>()
    expectTypeOf<Flat<sdk.SentMessage>>().toEqualTypeOf<contract.SentMessage>()
    expectTypeOf<{ data: sdk.Delivery[] }>().toEqualTypeOf<Out<typeof contract.DeliveryList>>()
    expectTypeOf<sdk.Recipient>().toEqualTypeOf<contract.Recipient>()
    expectTypeOf<sdk.Suppression>().toEqualTypeOf<contract.Suppression>()
    expectTypeOf<sdk.Page<sdk.Suppression>>().toEqualTypeOf<Out<typeof contract.SuppressionList>>()
    expectTypeOf<sdk.InboxLimits>().toEqualTypeOf<contract.InboxLimits>()
    expectTypeOf<sdk.InboxLimitsState>().toEqualTypeOf<contract.InboxLimitsResponse>()
    expectTypeOf<sdk.SendingState>().toEqualTypeOf<contract.SendingState>()
    expectTypeOf<sdk.ApprovalInfo>().toEqualTypeOf<contract.ApprovalInfo>()
    expectTypeOf<sdk.Approval>().toEqualTypeOf<contract.Approval>()
    expectTypeOf<sdk.Page<sdk.Approval>>().toEqualTypeOf<Out<typeof contract.ApprovalList>>()
    expectTypeOf<sdk.ApprovalMode>().toEqualTypeOf<contract.ApprovalMode>()
    expectTypeOf<sdk.ApproveParams>().toEqualTypeOf<contract.ApproveRequest>()
    expectTypeOf<sdk.Draft>().toEqualTypeOf<contract.Draft>()
    expectTypeOf<Flat<Omit<sdk.DraftParams, 'attachments'> & { attachments?: contract.OutgoingAttachment[] }>>().toEqualTypeOf<contract.DraftRequest>()
    expectTypeOf<keyof sdk.ApprovalListParams>().toEqualTypeOf<Exclude<keyof contract.ApprovalListQuery, 'after'>>()
  })

  it('administration: usage, audit log, sender rules', () => {
    expectTypeOf<sdk.UsageReport>().toEqualTypeOf<contract.UsageReport>()
    expectTypeOf<Flat<sdk.UsageRow>>().toEqualTypeOf<contract.UsageRow>()
    expectTypeOf<sdk.UsageCounters>().toEqualTypeOf<Out<typeof contract.UsageCounters>>()
    expectTypeOf<sdk.UsageGroupBy>().toEqualTypeOf<NonNullable<contract.UsageQuery['groupBy']>>()
    expectTypeOf<sdk.AuditEntry>().toEqualTypeOf<contract.AuditEntry>()
    expectTypeOf<sdk.Page<sdk.AuditEntry>>().toEqualTypeOf<Out<typeof contract.AuditList>>()
    expectTypeOf<sdk.SenderRule>().toEqualTypeOf<contract.SenderRule>()
    expectTypeOf<sdk.Page<sdk.SenderRule>>().toEqualTypeOf<Out<typeof contract.SenderRuleList>>()
  })

  it('domains and webhooks', () => {
    expectTypeOf<sdk.DnsRecord>().toEqualTypeOf<contract.DnsRecord>()
    expectTypeOf<sdk.DnsRecordState>().toEqualTypeOf<Out<typeof contract.DnsRecordState>>()
    expectTypeOf<sdk.Domain>().toEqualTypeOf<contract.Domain>()
    expectTypeOf<sdk.Page<sdk.Domain>>().toEqualTypeOf<Out<typeof contract.DomainList>>()
    expectTypeOf<sdk.WebhookStatus>().toEqualTypeOf<contract.WebhookStatus>()
    expectTypeOf<sdk.WebhookPayloadMode>().toEqualTypeOf<Out<typeof contract.WebhookPayloadMode>>()
    expectTypeOf<sdk.Webhook>().toEqualTypeOf<contract.Webhook>()
    expectTypeOf<Flat<sdk.CreatedWebhook>>().toEqualTypeOf<contract.CreateWebhookResponse>()
    expectTypeOf<sdk.Page<sdk.Webhook>>().toEqualTypeOf<Out<typeof contract.WebhookList>>()
    expectTypeOf<sdk.WebhookDeliveryStatus>().toEqualTypeOf<Out<typeof contract.WebhookDeliveryStatus>>()
    expectTypeOf<sdk.WebhookAttempt>().toEqualTypeOf<Out<typeof contract.WebhookAttempt>>()
    expectTypeOf<sdk.WebhookDelivery>().toEqualTypeOf<contract.WebhookDelivery>()
    expectTypeOf<sdk.Page<sdk.WebhookDelivery>>().toEqualTypeOf<Out<typeof contract.WebhookDeliveryList>>()
  })

  it('request bodies accept what the contract accepts, and send nothing it refuses', () => {
    expectTypeOf<sdk.CreateTenantParams>().toEqualTypeOf<contract.CreateTenantRequest>()
    expectTypeOf<sdk.UpdateTenantParams>().toEqualTypeOf<contract.UpdateTenantRequest>()
    expectTypeOf<sdk.CreateInboxParams>().toEqualTypeOf<contract.CreateInboxRequest>()
    expectTypeOf<sdk.UpdateInboxParams>().toEqualTypeOf<contract.UpdateInboxRequest>()
    // expiresAt may also be a Date, which the SDK sends as an ISO string.
    expectTypeOf<contract.CreateApiKeyRequest>().toExtend<sdk.CreateApiKeyParams>()
    expectTypeOf<Flat<Omit<sdk.CreateApiKeyParams, 'expiresAt'> & { expiresAt?: string }>>().toEqualTypeOf<contract.CreateApiKeyRequest>()
    // Message filters: the same names; Dates become ISO strings, the page params come from the list.
    type ListFilters = Omit<contract.MessageListQuery, 'limit' | 'after'>
    expectTypeOf<keyof sdk.MessageListParams>().toEqualTypeOf<keyof ListFilters | 'limit'>()
    expectTypeOf<Omit<ListFilters, 'hasAttachments' | 'includeHidden' | 'quarantined' | 'unread'>>().toExtend<Omit<sdk.MessageListParams, 'limit'>>()
    expectTypeOf<sdk.MessageListParams['unread']>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf<sdk.MessageListParams['quarantined']>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf<sdk.MessageListParams['includeHidden']>().toEqualTypeOf<boolean | undefined>()
    // Send, reply, forward: the same fields; attachments' content may also be bytes, which the SDK base64-encodes.
    type Wire<P> = Flat<Omit<P, 'attachments'> & { attachments?: contract.OutgoingAttachment[] }>
    expectTypeOf<Wire<sdk.SendParams>>().toEqualTypeOf<contract.SendRequest>()
    expectTypeOf<Wire<sdk.ReplyParams>>().toEqualTypeOf<contract.ReplyRequest>()
    expectTypeOf<Wire<sdk.ForwardParams>>().toEqualTypeOf<contract.ForwardRequest>()
    expectTypeOf<Flat<Omit<sdk.AttachmentInput, 'content'>>>().toEqualTypeOf<Flat<Omit<contract.OutgoingAttachment, 'content'>>>()
    expectTypeOf<contract.OutgoingAttachment['content']>().toExtend<sdk.AttachmentInput['content']>()
    expectTypeOf<sdk.CreateSuppressionParams>().toEqualTypeOf<In<typeof contract.CreateSuppressionRequest>>()
    expectTypeOf<sdk.UpdateSendingParams>().toEqualTypeOf<In<typeof contract.UpdateSendingRequest>>()
    expectTypeOf<sdk.CreateSenderRuleParams>().toEqualTypeOf<contract.CreateSenderRuleRequest>()
    expectTypeOf<sdk.CreateDomainParams>().toEqualTypeOf<contract.CreateDomainRequest>()
    expectTypeOf<sdk.UpdateDomainParams>().toEqualTypeOf<contract.UpdateDomainRequest>()
    expectTypeOf<sdk.CreateWebhookParams>().toEqualTypeOf<contract.CreateWebhookRequest>()
    expectTypeOf<sdk.UpdateWebhookParams>().toEqualTypeOf<contract.UpdateWebhookRequest>()
    // Usage: the report's days (a Date is sent as its UTC day); the CSV format is usage.csv()'s job.
    type UsageWire = Flat<Omit<sdk.UsageParams, 'from' | 'to'> & { from: string; to: string }>
    expectTypeOf<UsageWire>().toEqualTypeOf<Flat<Omit<contract.UsageQuery, 'format'>>>()
    // Audit log filters: the query minus the page params the list adds.
    // (`limit` is coerced from the query string: its input type is unknown.)
    expectTypeOf<keyof sdk.AuditListParams>().toEqualTypeOf<Exclude<keyof In<typeof contract.AuditQuery>, 'after'>>()
    expectTypeOf<sdk.AuditListParams['tenantId']>().toEqualTypeOf<In<typeof contract.AuditQuery>['tenantId']>()
  })

  it('the fixtures the tests use are valid wire objects', () => {
    expect(() => contract.Tenant.strict().parse(tenantFixture())).not.toThrow()
    expect(() => contract.Inbox.strict().parse(inboxFixture())).not.toThrow()
    expect(() => contract.ApiKey.strict().parse(apiKeyFixture())).not.toThrow()
    expect(() => contract.Message.strict().parse(messageFixture())).not.toThrow()
    expect(() => contract.MessageSummary.strict().parse(summaryFixture())).not.toThrow()
    expect(() => contract.ThreadWithMessages.strict().parse(threadFixture())).not.toThrow()
    expect(() => contract.Delivery.strict().parse(deliveryFixture())).not.toThrow()
    expect(() => contract.SentMessage.strict().parse(sentFixture())).not.toThrow()
    expect(() => contract.Suppression.strict().parse(suppressionFixture())).not.toThrow()
    expect(() => contract.InboxLimitsResponse.strict().parse(inboxLimitsFixture())).not.toThrow()
    expect(() => contract.SendingState.strict().parse(sendingStateFixture())).not.toThrow()
    expect(() => contract.UsageReport.strict().parse(usageFixture())).not.toThrow()
    expect(() => contract.AuditEntry.strict().parse(auditFixture())).not.toThrow()
    expect(() => contract.SenderRule.strict().parse(senderRuleFixture())).not.toThrow()
    expect(() => contract.Event.strict().parse(eventFixture())).not.toThrow()
    expect(() => contract.Domain.strict().parse(domainFixture())).not.toThrow()
    expect(() => contract.Webhook.strict().parse(webhookFixture())).not.toThrow()
    expect(() => contract.WebhookDelivery.strict().parse(webhookDeliveryFixture())).not.toThrow()
  })
})
