// Every table, for drizzle's relational typing and for drizzle-kit.
export * from '../tenancy/tables.js'
export * from '../inboxes/tables.js'
export * from '../apikeys/tables.js'
