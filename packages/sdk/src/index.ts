// @mailroom/sdk: the public TypeScript client of Mailroom, email for AI agents.
export { Mailroom, DEFAULT_BASE_URL, type MailroomOptions } from './client.js'
export { Inbox } from './inbox.js'
export { PageList } from './core/pagination.js'
export type { RequestOptions, FetchLike } from './core/http.js'
export {
  MailroomError,
  MailroomTimeoutError,
  MailroomAbortError,
  MailroomConnectionError,
  MailroomRateLimitError,
  MailroomNotFoundError,
  MailroomAuthError,
  MailroomValidationError,
  type ClientErrorCode,
  type ErrorIssue,
} from './core/errors.js'
export { Tenants } from './resources/tenants.js'
export { ApiKeys } from './resources/api-keys.js'
export { Inboxes } from './resources/inboxes.js'
export { Messages, Threads } from './resources/messages.js'
export { Contacts } from './resources/contacts.js'
export { Events } from './resources/events.js'
export { Usage } from './resources/usage.js'
export { AuditLog } from './resources/audit-log.js'
export { SenderRules } from './resources/sender-rules.js'
export { Suppressions } from './resources/suppressions.js'
export { Domains } from './resources/domains.js'
export { Webhooks } from './resources/webhooks.js'
export { Approvals } from './resources/approvals.js'
export { Drafts } from './resources/drafts.js'
export { isPendingApproval } from './inbox.js'
export type * from './types.js'
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions, type WebhookHeaders, type MailroomWebhookEvent } from './webhooks.js'
