-- The marketplace's timeStamp of the change behind a history event (null for our own and older events). A delivery
-- that arrives after a newer change was applied is written into history before the first event whose change is newer:
-- this column says which events those are (SubscriptionStore.RecordLateStatusChangeAsync).
ALTER TABLE subscription_events ADD COLUMN marketplace_time_stamp TEXT NULL;
