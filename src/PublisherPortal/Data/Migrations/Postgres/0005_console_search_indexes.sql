-- Console grid at 100,000 subscriptions (issue 6, bench/ConsoleBench), the two cases 0003 left over 2x.
-- "Subscribed on plan team": with status and plan both leading, the capped counts read index entries only (0003's
-- (plan_id, first_seen_at, id) had to fetch each row to test its status) and the newest-first page walks 25 entries.
CREATE INDEX IF NOT EXISTS ix_subscriptions_status_plan_first_seen ON subscriptions (status, plan_id, first_seen_at, id);
-- Search by subscription or tenant id: a tenant's subscriptions newest first, per tenant column, so a page of a tenant
-- with hundreds of subscriptions reads a page's worth of entries from each instead of fetching and sorting all of them;
-- a prefix of an id (an operator typing it) is a range of the same indexes. The search compares these columns
-- COLLATE "C" (byte order: under a linguistic collation '-' may be ignored and a prefix is not a range), and an index
-- serves only comparisons in its own collation, so they are built with the same collation. 0001's default-collation
-- tenant indexes stay: the customer's "my subscriptions" page matches tenants with a plain '='.
CREATE INDEX IF NOT EXISTS ix_subscriptions_id_bytes ON subscriptions (id COLLATE "C");
CREATE INDEX IF NOT EXISTS ix_subscriptions_beneficiary_tenant_first_seen ON subscriptions (beneficiary_tenant_id COLLATE "C", first_seen_at, id, status);
CREATE INDEX IF NOT EXISTS ix_subscriptions_purchaser_tenant_first_seen ON subscriptions (purchaser_tenant_id COLLATE "C", first_seen_at, id, status);
-- Status chips under a name search: the fragment is matched in every name (a scan), but of this index, which also holds
-- the status the chips count, instead of the table.
CREATE INDEX IF NOT EXISTS ix_subscriptions_name_status ON subscriptions (name, status);
