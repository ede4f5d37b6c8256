// Received attachments are stored once, inside the raw copy, and decoded again when read. That
// parse runs on a worker thread of its own, so reading attachments never queues ahead of incoming
// mail (whose parse sits before the sender's 250), and tenants take turns for it.
import { FairQueue } from '../lib/fair-queue.js'
import { createParser, type MailParser, type ParsedMessage } from './parser.js'
import { decodedAttachment, type AttachmentSource } from './service.js'

export class AttachmentDecoder {
  private readonly queue: FairQueue

  constructor(
    private readonly parser: MailParser = createParser({ threads: 1 }),
    concurrency = 1,
  ) {
    this.queue = new FairQueue(concurrency)
  }

  /** A raw message parsed with its attachments' bytes, in the tenant's turn. */
  parse(tenantId: string, raw: Buffer): Promise<ParsedMessage> {
    return this.queue.run(tenantId, () => this.parser.parse(raw, { score: false }))
  }

  /** An attachment's bytes: as stored, or decoded from the raw and checked against its row. */
  async bytes(tenantId: string, src: AttachmentSource): Promise<Buffer> {
    if (src.stored) return src.stored
    return decodedAttachment(src.raw ? await this.parse(tenantId, src.raw) : null, src.row)
  }

  close(): Promise<void> {
    return this.parser.close()
  }
}
