-- Health monitoring (居家健康监测 and the other monitored measures): one row per person under
-- a measure, its check-ins (one per prompt slot) and its nucleic-acid samples.
CREATE TABLE monitoring (
    id            INTEGER PRIMARY KEY,
    report_id     INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    person_idx    INTEGER NOT NULL,          -- persons.idx: 0 the main person, then companions
    chat_id       INTEGER NOT NULL,          -- the reporter's private chat: prompts go there
    locale        TEXT NOT NULL,
    grid_id       TEXT NOT NULL,
    kind          TEXT NOT NULL,             -- measure kind (bot.domain.risk.MEASURE_KINDS)
    start_date    TEXT NOT NULL,             -- local date, day 1
    end_date      TEXT NOT NULL,             -- local date, inclusive
    test_dates    TEXT NOT NULL DEFAULT '[]',-- JSON list of local ISO dates
    state         TEXT NOT NULL DEFAULT 'active'
                  CHECK (state IN ('active', 'released', 'stopped')),
    missed_in_row INTEGER NOT NULL DEFAULT 0,
    gen           INTEGER NOT NULL DEFAULT 1,-- bumped on every change of dates: timer keys
    note          TEXT,                      -- the reason of the last shorten/stop
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (report_id, person_idx)
);
CREATE INDEX monitoring_grid ON monitoring(grid_id, state);
CREATE INDEX monitoring_chat ON monitoring(chat_id, state);

CREATE TABLE checkins (
    id            INTEGER PRIMARY KEY,
    monitoring_id INTEGER NOT NULL REFERENCES monitoring(id) ON DELETE CASCADE,
    slot_at       TEXT NOT NULL,             -- the prompt's scheduled time, ISO UTC
    prompted_at   TEXT NOT NULL,
    answered_at   TEXT,
    temperature   REAL,
    symptoms      TEXT,                      -- JSON list of codes; NULL: not answered yet
    state         TEXT NOT NULL DEFAULT 'prompted'
                  CHECK (state IN ('prompted', 'answered', 'missed')),
    UNIQUE (monitoring_id, slot_at)
);
CREATE INDEX checkins_slot ON checkins(slot_at, state);

CREATE TABLE test_samples (
    id            INTEGER PRIMARY KEY,
    monitoring_id INTEGER NOT NULL REFERENCES monitoring(id) ON DELETE CASCADE,
    test_date     TEXT NOT NULL,             -- local date of the planned test
    sampled_at    TEXT,
    sampled_by    INTEGER,
    result        TEXT CHECK (result IN ('negative', 'positive', 'pending')),
    result_at     TEXT,
    result_by     INTEGER,
    UNIQUE (monitoring_id, test_date)
);
