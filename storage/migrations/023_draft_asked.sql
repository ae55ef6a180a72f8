-- The open question survives a crash (issue 11): an answer is saved before the next question
-- is sent, so a kill between the two left the answer stored and the person asked nothing.
-- asked_at: when the draft's open question was last sent (or queued in the outbox); every
-- answer clears it in its own UPDATE, so NULL means the question is owed and is sent again
-- when the bot starts. Drafts from before this column count as owed (asked once more).
ALTER TABLE drafts ADD COLUMN asked_at TEXT;
