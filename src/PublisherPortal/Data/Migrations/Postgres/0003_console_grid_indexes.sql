-- Console grid at scale (bench/ConsoleBench): the most used filters, status and plan, lead an index that continues in
-- the default order, so "Subscribed, newest first" walks one index range and stops after a page instead of sorting
-- every match, and a capped count reads at most 1,001 index entries.
CREATE INDEX IF NOT EXISTS ix_subscriptions_status_first_seen ON subscriptions (status, first_seen_at, id);
CREATE INDEX IF NOT EXISTS ix_subscriptions_plan_first_seen ON subscriptions (plan_id, first_seen_at, id);
-- "One offer, sorted by name": without it the planner takes the offer index and sorts every match of the offer.
CREATE INDEX IF NOT EXISTS ix_subscriptions_offer_name ON subscriptions (offer_id, name, id);
