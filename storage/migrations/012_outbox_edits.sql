-- An outbox row may bring an earlier message up to date instead of sending a new one (a case
-- card in the group ticks its checklist): ``edits`` is the dedup key of the message to edit.
-- The worker edits it once it is delivered; when it cannot (never delivered, too old), it
-- sends ``fallback`` as a new message instead, or nothing when there is none.
ALTER TABLE outbox ADD COLUMN edits TEXT;
ALTER TABLE outbox ADD COLUMN fallback TEXT;
CREATE INDEX outbox_edits ON outbox (edits) WHERE edits IS NOT NULL AND state = 'pending';
