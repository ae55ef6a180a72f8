-- Issue 12 (review): a document made when it is sent. The release certificate's PDF took
-- 0.2-0.8 s to build (4 s the first time after a start) inside the timer's write transaction,
-- which holds the database's write lock for up to 200 releases. Its row now keeps what the
-- paper says (its ``recipe``: the layout, the words and the creation time, as JSON; like the
-- file it stands for, only what the paper shows), and the outbox worker builds the file right
-- before sending it, outside any transaction; the build is deterministic, so a restart builds
-- the same file again. Like a sent document's bytes, a sent recipe is forgotten.
ALTER TABLE outbox ADD COLUMN recipe TEXT;
