-- Staff chats get the escalation queue's batching too: every ladder step and missed check-in
-- alert for a chat waits for the minute's flush, which sends ONE message per chat (the entry's
-- own message when it is alone), so a wave's misses never reach a worker as dozens of messages.
-- chat_id 0 is the leadership group (whatever its id in the config).
CREATE TABLE escalation_queue_new (
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
INSERT INTO escalation_queue_new (id, subject, gen, step, queued_at, sent_at)
    SELECT id, subject, gen, step, queued_at, sent_at FROM escalation_queue;
DROP TABLE escalation_queue;
ALTER TABLE escalation_queue_new RENAME TO escalation_queue;
CREATE INDEX escalation_queue_waiting ON escalation_queue(sent_at, id);
