// The SDK's own wire types must not drift from @mailroom/contract. The type assertions are checked by
// `tsc --noEmit -p packages/sdk`; the runtime half parses the test fixtures with the contract schemas.
import * as contract from '@mailroom/contract'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type * as sdk from '../src/types.js'
import { apiKeyFixture, inboxFixture, messageFixture, summaryFixture, tenantFixture, threadFixture } from './helpers.js'

/** An intersection written out as one object type, for exact comparison. */
type Flat<T> = { [K in keyof T]: T[K] }

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
    expectTypeOf<Omit<ListFilters, 'hasAttachments'>>().toExtend<Omit<sdk.MessageListParams, 'limit'>>()
  })

  it('the fixtures the tests use are valid wire objects', () => {
    expect(() => contract.Tenant.strict().parse(tenantFixture())).not.toThrow()
    expect(() => contract.Inbox.strict().parse(inboxFixture())).not.toThrow()
    expect(() => contract.ApiKey.strict().parse(apiKeyFixture())).not.toThrow()
    expect(() => contract.Message.strict().parse(messageFixture())).not.toThrow()
    expect(() => contract.MessageSummary.strict().parse(summaryFixture())).not.toThrow()
    expect(() => contract.ThreadWithMessages.strict().parse(threadFixture())).not.toThrow()
  })
})
