ALTER TABLE "attachments" ALTER COLUMN "content_enc" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "attachments" ADD COLUMN "checksum" text;