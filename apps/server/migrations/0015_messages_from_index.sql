-- Listing an inbox by sender (?from=) walked the inbox newest first and dropped every other
-- sender's mail: 20 ms at 20,000 messages for a sender with none, growing with the inbox. This
-- index serves the filter and the order together: the cost follows the page, not the mailbox.
CREATE INDEX "messages_inbox_from_idx" ON "messages" USING btree ("tenant_id","inbox_id","from_address","received_at","id");