// The ingest path: see ingest.ts.
export { Ingest } from './ingest.js'
export { QuotaError, type Envelope, type IngestOptions, type Recipient, type Stored } from './types.js'
