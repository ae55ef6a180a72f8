-- A key-control report's withdrawal waits for the grid worker (review A3): when its reporter
-- asked; cleared when the worker keeps key control, the report withdrawn when he confirms.
ALTER TABLE reports ADD COLUMN withdraw_requested_at TEXT;
-- A companion entry's monitoring stopped because his own report watches him at least as
-- closely (review A2): that report's id, so the entry resumes when it no longer does.
ALTER TABLE monitoring ADD COLUMN covered_by INTEGER REFERENCES reports(id);

-- The withdrawal request climbs the one escalation ladder (kind 'withdrawal', subject
-- 'withdraw:<report id>') until a worker decides: the kind allowed, the table rebuilt as in
-- migration 011, its queue (which references it) set aside meanwhile.
CREATE TABLE escalation_queue_keep AS SELECT * FROM escalation_queue;
DROP TABLE escalation_queue;
CREATE TABLE escalations_new (
    subject      TEXT PRIMARY KEY,              -- 'report:42', 'tip:7', 'checkin:3:1603713600', 'fever:12', 'case:5', 'withdraw:42'
    kind         TEXT NOT NULL
                 CHECK (kind IN ('arrival', 'tip', 'checkin', 'fever', 'case', 'withdrawal')),
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
INSERT INTO escalations_new SELECT * FROM escalations;
DROP TABLE escalations;
ALTER TABLE escalations_new RENAME TO escalations;
CREATE INDEX escalations_parent ON escalations(parent, state);
CREATE TABLE escalation_queue (
    id         INTEGER PRIMARY KEY,
    subject    TEXT NOT NULL REFERENCES escalations(subject) ON DELETE CASCADE,
    gen        INTEGER NOT NULL,
    step       INTEGER NOT NULL,                -- -1: the item's own alert, before its ladder
    chat_id    INTEGER NOT NULL DEFAULT 0,      -- 0: the leadership group
    text       TEXT,                            -- a staff chat's message if it goes alone
    queued_at  TEXT NOT NULL,
    sent_at    TEXT,                            -- NULL: waiting for the flush
    UNIQUE (subject, gen, step, chat_id)
);
INSERT INTO escalation_queue SELECT * FROM escalation_queue_keep;
DROP TABLE escalation_queue_keep;
CREATE INDEX escalation_queue_waiting ON escalation_queue(sent_at, id);
