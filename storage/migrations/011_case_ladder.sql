-- Cases climb the one escalation ladder (bot.domain.escalation.case_ladder): an `escalations`
-- row of kind 'case' per open case, and its pending timers of the old kinds ('case.remind',
-- 'case.overdue', 'case.overdue_repeat') rewritten as the ladder's, so they still fire.

-- The kind 'case' allowed: the table rebuilt, its queue (which references it) set aside meanwhile.
CREATE TABLE escalation_queue_keep AS SELECT * FROM escalation_queue;
DROP TABLE escalation_queue;
CREATE TABLE escalations_new (
    subject      TEXT PRIMARY KEY,              -- 'report:42', 'tip:7', 'checkin:3:1603713600', 'fever:12', 'case:5'
    kind         TEXT NOT NULL CHECK (kind IN ('arrival', 'tip', 'checkin', 'fever', 'case')),
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

-- Each open case on the ladder at its next step: its earliest pending old timer (reminders at
-- 60, 90, 110 minutes: steps 0-2; the overdue escalation: 3), or past them all (4: repeating).
-- Acknowledged cases ("收到") stay acknowledged: only the overdue escalation is still to come.
INSERT INTO escalations (subject, kind, ref, grid_id, village_id, deadline_at, step, reached,
                         state, started_at, closed_at, closed_by)
SELECT s.subject, 'case', c.ref, c.grid_id, c.village_id, c.deadline_at, s.step,
       CASE WHEN s.step > 0 THEN 'leadership' END,
       CASE WHEN a.user_id IS NULL THEN 'open' ELSE 'acked' END, c.created_at, a.at, a.user_id
FROM cases c
JOIN (SELECT c2.id AS case_id, 'case:' || c2.id AS subject,
             coalesce((SELECT min(CASE WHEN t.kind = 'case.overdue' THEN 3
                                       WHEN json_extract(t.payload, '$.minutes') = 60 THEN 0
                                       WHEN json_extract(t.payload, '$.minutes') = 90 THEN 1
                                       ELSE 2 END)
                       FROM timers t
                       WHERE t.subject = 'case:' || c2.id AND t.state = 'pending'
                         AND t.kind IN ('case.remind', 'case.overdue')), 4) AS step
      FROM cases c2 WHERE c2.state = 'open') s ON s.case_id = c.id
LEFT JOIN acks a ON a.id = (SELECT a2.id FROM acks a2 WHERE a2.subject = s.subject
                            ORDER BY a2.at, a2.id LIMIT 1);

-- Its earliest pending old timer becomes its one pending ladder step; the others go.
UPDATE timers
SET kind = 'ladder.step',
    payload = json_object('gen', 1, 'step',
                          (SELECT e.step FROM escalations e WHERE e.subject = timers.subject)),
    dedup_key = 'ladder:' || subject || ':g1:s'
                || (SELECT e.step FROM escalations e WHERE e.subject = timers.subject)
WHERE state = 'pending' AND kind IN ('case.remind', 'case.overdue')
  AND (SELECT e.step FROM escalations e WHERE e.subject = timers.subject AND e.kind = 'case')
      = CASE WHEN kind = 'case.overdue' THEN 3
             WHEN json_extract(payload, '$.minutes') = 60 THEN 0
             WHEN json_extract(payload, '$.minutes') = 90 THEN 1
             ELSE 2 END;
UPDATE timers SET state = 'cancelled'
WHERE state = 'pending' AND kind IN ('case.remind', 'case.overdue');

-- The batched repeat of every overdue case: the ladder's repeat of the case ladder's step 3.
UPDATE timers
SET kind = 'ladder.repeat', subject = 'ladder:repeat:case',
    payload = json_object('kind', 'case', 'step', 3),
    dedup_key = 'ladder.repeat:case:3:' || CAST(strftime('%s', due_at) AS INTEGER)
WHERE state = 'pending' AND kind = 'case.overdue_repeat';
