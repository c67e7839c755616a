-- The name customers read for an offer (issue 15). The marketplace's API names offers only by id ("insights-saas"); the
-- name shown in the marketplace listing is the publisher's to repeat here. An offer without a row is shown by its id.
CREATE TABLE IF NOT EXISTS offer_display_names (
    offer_id     TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   TEXT NOT NULL
);
