-- A refused webhook delivery (401/400) is kept as what an investigation needs — its size, SHA-256 and first bytes in
-- body — not its whole body: anonymous posts must not be able to fill the disk.
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS body_bytes INTEGER NULL;
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS body_sha256 TEXT NULL;
