-- Which pushed messages offer buttons for which item, so that the item's handling (verified,
-- acknowledged, answered...) takes those buttons off every such message — cards sent to
-- several workers, the group's, a /tasks list — through outbox edits (``edits``).
CREATE TABLE offers (
    subject   TEXT NOT NULL,  -- the item the buttons act on, e.g. 'report:42', 'ack:tip:7'
    dedup_key TEXT NOT NULL,  -- the outbox message that carries them
    data      TEXT NOT NULL,  -- JSON list of those buttons' callback data
    PRIMARY KEY (subject, dedup_key)
) WITHOUT ROWID;

-- A message's current state is its latest edit: found by ``edits`` in any state.
CREATE INDEX outbox_edited ON outbox (edits) WHERE edits IS NOT NULL;
