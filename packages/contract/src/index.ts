// @mailroom/contract: the wire format shared by the server and the SDK. Depends on zod only.
export * from './errors.js'
export * from './common.js'
export * from './tenancy.js'
export * from './messages.js'
export * from './sending.js'
export * from './admin.js'
export * from './domains.js'
export * from './webhooks.js'
