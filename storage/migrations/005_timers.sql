-- Durable timers: every reminder, deadline and escalation is a row. One periodic job fires
-- the due ones; after a restart, rows that fell due during the downtime fire once, marked late.
CREATE TABLE timers (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,                    -- what to do: a name in bot/timers.py's registry
    subject     TEXT NOT NULL,                    -- what it is about: 'report:42', 'tip:7', ...
    due_at      TEXT NOT NULL,                    -- ISO-8601 UTC
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'done', 'cancelled', 'failed')),
    payload     TEXT NOT NULL DEFAULT '{}',       -- JSON for the handler
    dedup_key   TEXT UNIQUE,                      -- the same key scheduled twice makes one row
    late        INTEGER NOT NULL DEFAULT 0,       -- fired well after due_at (the bot was down)
    attempts    INTEGER NOT NULL DEFAULT 0,       -- handler failures so far
    fired_at    TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX timers_due ON timers(state, due_at);
CREATE INDEX timers_subject ON timers(subject, state);
