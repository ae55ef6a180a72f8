-- The escalation ladder (bot/escalation.py): every item with a deadline (an unverified
-- arrival, an open tip, a missed check-in, a health alert) climbs assignee -> village admin ->
-- leadership group until it is handled or acknowledged ("收到", recorded in `acks`).

-- One row per item: where it stands on its ladder. A pending `ladder.step` timer (one at a time)
-- carries the climb; this row is what an acknowledgement and the group batch read.
CREATE TABLE escalations (
    subject      TEXT PRIMARY KEY,              -- 'report:42', 'tip:7', 'checkin:3:1603713600', 'fever:12'
    kind         TEXT NOT NULL CHECK (kind IN ('arrival', 'tip', 'checkin', 'fever')),
    parent       TEXT,                          -- 'monitoring:3': stopped together
    ref          TEXT NOT NULL,                 -- the reference number shown
    grid_id      TEXT,                          -- NULL: a tip whose grid is unknown
    village_id   TEXT NOT NULL,
    deadline_at  TEXT NOT NULL,                 -- the ladder's times count from here
    detail       TEXT NOT NULL DEFAULT '{}',    -- JSON: masked name, slot, temperature...
    gen          INTEGER NOT NULL DEFAULT 1,    -- bumped on a restart: timer keys
    step         INTEGER NOT NULL DEFAULT 0,    -- index of the next step to send
    reached      TEXT,                          -- the highest level told so far
    state        TEXT NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'acked', 'handled')),
    started_at   TEXT NOT NULL,
    closed_at    TEXT,
    closed_by    INTEGER                        -- who acknowledged (NULL: handled, or by the bot)
);
CREATE INDEX escalations_parent ON escalations(parent, state);

-- Leadership-step escalations wait here for the minute's one batched group message
-- (`ladder.flush`), so a wave of items falling due together makes one message.
CREATE TABLE escalation_queue (
    id         INTEGER PRIMARY KEY,
    subject    TEXT NOT NULL REFERENCES escalations(subject) ON DELETE CASCADE,
    gen        INTEGER NOT NULL,
    step       INTEGER NOT NULL,
    queued_at  TEXT NOT NULL,
    sent_at    TEXT,                            -- NULL: waiting for the flush
    UNIQUE (subject, gen, step)
);
CREATE INDEX escalation_queue_waiting ON escalation_queue(sent_at, id);
