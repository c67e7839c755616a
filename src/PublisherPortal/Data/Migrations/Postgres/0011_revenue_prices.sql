-- PostgreSQL twin of Sqlite/0011_revenue_prices.sql. Revenue (issue 19). Money is whole millionths of the currency unit (*_micros) so sums are exact on both databases.
-- Prices are versioned: a refresh that finds a term changed closes the open row (valid_to) and opens a new one, so a
-- month is valued with the prices in force then (docs/architecture.md#revenue).

-- A plan's recurring price per currency and billing term (P1M, P1Y, P2Y, P3Y…), as List available plans shows it.
CREATE TABLE IF NOT EXISTS plan_prices (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    offer_id       TEXT NOT NULL,
    plan_id        TEXT NOT NULL,
    currency       TEXT NOT NULL,
    term_unit      TEXT NOT NULL,
    price_micros   BIGINT NOT NULL,          -- per term: per seat when is_per_seat, else for the whole subscription
    is_per_seat    BOOLEAN NOT NULL DEFAULT FALSE,
    valid_from     TIMESTAMPTZ NOT NULL,
    valid_to       TIMESTAMPTZ NULL                  -- null: in force now
);
CREATE INDEX IF NOT EXISTS ix_plan_prices_plan ON plan_prices (offer_id, plan_id, currency, term_unit, valid_from);

-- A plan's metered dimensions per currency: the unit price, and the quantity a billing term includes.
CREATE TABLE IF NOT EXISTS plan_dimension_prices (
    id                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    offer_id                 TEXT NOT NULL,
    plan_id                  TEXT NOT NULL,
    dimension                TEXT NOT NULL,
    currency                 TEXT NOT NULL,
    term_unit                TEXT NOT NULL,
    unit_price_micros        BIGINT NOT NULL,
    included_quantity_micros BIGINT NOT NULL DEFAULT 0, -- per month of the term: the marketplace resets it monthly
    valid_from               TIMESTAMPTZ NOT NULL,
    valid_to                 TIMESTAMPTZ NULL
);
CREATE INDEX IF NOT EXISTS ix_plan_dimension_prices_plan ON plan_dimension_prices (offer_id, plan_id, dimension, currency, valid_from);

-- What a subscription is billed in, recorded by an Admin: the currency always, a negotiated price (private offers)
-- when known. The newest row whose valid_from is at or before an instant applies then.
CREATE TABLE IF NOT EXISTS subscription_prices (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES subscriptions (id),
    currency        TEXT NOT NULL,
    term_unit       TEXT NULL,                 -- null: the subscription's own term
    price_micros    BIGINT NULL,              -- null: list price in this currency
    is_per_seat     BOOLEAN NOT NULL DEFAULT FALSE,
    valid_from      TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    recorded_by     TEXT NOT NULL,
    note            TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_subscription_prices_subscription ON subscription_prices (subscription_id, valid_from, id);
