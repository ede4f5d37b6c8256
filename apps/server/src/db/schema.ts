// Every table, for drizzle's relational typing and for drizzle-kit.
export * from '../tenancy/tables.js'
export * from '../inboxes/tables.js'
export * from '../apikeys/tables.js'
export * from '../crypto/tables.js'
export * from '../messages/tables.js'
export * from '../events/tables.js'
export * from '../jobs/tables.js'
export * from '../limits/tables.js'
