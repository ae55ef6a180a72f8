-- Durable outbox: every pushed message is a row before it is sent (DESIGN.md, "Durable outbox").
-- Rows are inserted in the same transaction as the record they are about, so a report and its
-- notifications commit together; the outbox worker is the only reader that sends them.

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    -- Idempotency: a replayed action enqueues the same key and gets no second row.
    -- NULL means "no dedup"; UNIQUE allows any number of NULLs.
    dedup_key    TEXT UNIQUE,
    chat_id      INTEGER NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'photo')),
    text         TEXT NOT NULL,            -- HTML (the caption for a photo)
    reply_markup TEXT,                     -- JSON of InlineKeyboardMarkup.to_dict(), or NULL
    photo        BLOB,
    -- 0 = alerts/escalations, 5 = notifications, 9 = bulk reminders.
    priority     INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unreachable')),
    attempts     INTEGER NOT NULL DEFAULT 0,   -- send attempts made so far
    not_before   TEXT NOT NULL,            -- ISO-8601 UTC; retries and deferrals move it
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    message_id   INTEGER,
    error        TEXT,                     -- last error, for the operator
    subject      TEXT                      -- what it is about, e.g. 'report:42'
);

-- The claim query walks pending rows in (priority, not_before, id) order: an alert is found
-- first even behind many thousands of pending bulk reminders.
CREATE INDEX outbox_claim ON outbox (state, priority, not_before, id);

CREATE INDEX outbox_subject ON outbox (subject) WHERE subject IS NOT NULL;

-- Chats that blocked the bot (Forbidden). Cleared by the next successful send to that chat.
CREATE TABLE unreachable (
    chat_id INTEGER PRIMARY KEY,
    since   TEXT NOT NULL,
    reason  TEXT
);
