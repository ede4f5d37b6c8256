-- Encrypted columns hold AES-GCM output, which does not compress. With the default storage
-- (EXTENDED) Postgres still runs pglz over every large value before it moves it out of line, and
-- gives up each time. EXTERNAL keeps the out-of-line storage and skips the attempt.
ALTER TABLE raw_messages ALTER COLUMN data_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE messages ALTER COLUMN text_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE messages ALTER COLUMN html_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE messages ALTER COLUMN headers_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE attachments ALTER COLUMN content_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE events ALTER COLUMN data_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE webhook_deliveries ALTER COLUMN payload_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE idempotency_keys ALTER COLUMN body_enc SET STORAGE EXTERNAL;
