-- The W3C traceparent of the span that queued the row, so the worker that picks it up continues the same trace
-- (webhook arrival → processing → acknowledgement as one trace). NULL when nothing was traced.
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS trace_parent TEXT NULL;
ALTER TABLE acknowledgements ADD COLUMN IF NOT EXISTS trace_parent TEXT NULL;
