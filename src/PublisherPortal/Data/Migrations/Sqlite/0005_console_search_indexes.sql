-- Console grid at 100,000 subscriptions (issue 6, bench/ConsoleBench), the two cases 0003 left over 2x.
-- "Subscribed on plan team": with status and plan both leading, the capped counts read index entries only (0003's
-- (plan_id, first_seen_at, id) had to fetch each row to test its status) and the newest-first page walks 25 entries.
CREATE INDEX IF NOT EXISTS ix_subscriptions_status_plan_first_seen ON subscriptions (status, plan_id, first_seen_at, id);
-- Search by tenant id: a tenant's subscriptions newest first, per tenant column, so a page of a tenant with hundreds of
-- subscriptions reads a page's worth of entries from each instead of fetching and sorting all of them. A prefix of a
-- tenant id (an operator typing it) is a range of the same indexes; status rides along so the status chips count a
-- tenant's subscriptions from these entries alone. They replace 0001's single-column tenant indexes.
CREATE INDEX IF NOT EXISTS ix_subscriptions_beneficiary_tenant_first_seen ON subscriptions (beneficiary_tenant_id, first_seen_at, id, status);
CREATE INDEX IF NOT EXISTS ix_subscriptions_purchaser_tenant_first_seen ON subscriptions (purchaser_tenant_id, first_seen_at, id, status);
DROP INDEX IF EXISTS ix_subscriptions_beneficiary_tenant;
DROP INDEX IF EXISTS ix_subscriptions_purchaser_tenant;
-- Status chips under a name search: the fragment is matched in every name (a scan), but of this index, which also holds
-- the status the chips count, instead of the table.
CREATE INDEX IF NOT EXISTS ix_subscriptions_name_status ON subscriptions (name, status);
