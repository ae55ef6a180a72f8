-- Issue 12: the outbox sends documents (sendDocument): the release certificate (解除隔离证明)
-- as a PDF to the person's chat, and issue 14's printable posters. Like a photo, the file's
-- bytes are in the row (the ``photo`` column holds a document's too, ``filename`` its name),
-- so a restart still sends it; a sent document's bytes are forgotten like a sent text.
-- SQLite cannot change a CHECK: the table is rebuilt (as staff in migration 011), its columns
-- in the same order, every index made again.
CREATE TABLE outbox_new (
    id           INTEGER PRIMARY KEY,
    dedup_key    TEXT UNIQUE,
    chat_id      INTEGER NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'photo', 'document')),
    text         TEXT NOT NULL,            -- HTML (the caption for a photo or a document)
    reply_markup TEXT,
    photo        BLOB,                     -- the photo's or the document's bytes
    priority     INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unreachable')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    message_id   INTEGER,
    error        TEXT,
    subject      TEXT,
    edits        TEXT,
    fallback     TEXT,
    failed_at    TEXT,
    uncertain    INTEGER NOT NULL DEFAULT 0,
    filename     TEXT                      -- a document's file name, as the reader sees it
);
INSERT INTO outbox_new (id, dedup_key, chat_id, kind, text, reply_markup, photo, priority, state,
                        attempts, not_before, created_at, sent_at, message_id, error, subject,
                        edits, fallback, failed_at, uncertain)
    SELECT id, dedup_key, chat_id, kind, text, reply_markup, photo, priority, state, attempts,
           not_before, created_at, sent_at, message_id, error, subject, edits, fallback,
           failed_at, uncertain
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_claim ON outbox (state, priority, not_before, id);
CREATE INDEX outbox_subject ON outbox (subject) WHERE subject IS NOT NULL;
CREATE INDEX outbox_edits ON outbox (edits) WHERE edits IS NOT NULL AND state = 'pending';
CREATE INDEX outbox_edited ON outbox (edits) WHERE edits IS NOT NULL;
CREATE INDEX outbox_failed ON outbox (failed_at) WHERE state = 'failed';
CREATE INDEX outbox_repeats ON outbox (sent_at) WHERE uncertain > 0 AND state = 'sent';
