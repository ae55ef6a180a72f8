-- Discovered cases (病例、疑似病例、无症状感染者、不明原因肺炎) and the 2-hour online direct report
-- (网络直报): the case, its preliminary lockdown checklist (疫点封控前期工作), acknowledgements.

CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,
    ref               TEXT NOT NULL UNIQUE,          -- XF-BL-20201026-01 (BL: 病例)
    draft_token       TEXT NOT NULL UNIQUE,          -- a double tap on "submit" makes one case
    kind              TEXT NOT NULL
                      CHECK (kind IN ('confirmed', 'suspected', 'asymptomatic', 'pneumonia')),
    report_id         INTEGER REFERENCES reports(id),   -- the arrival report of the person, if any
    person_name       TEXT NOT NULL,                 -- stored in full, masked when rendered
    person_phone      TEXT,
    person_id_number  TEXT,
    village_id        TEXT NOT NULL,
    grid_id           TEXT NOT NULL,
    address           TEXT NOT NULL,
    latitude          REAL,                          -- the location pin (WGS-84), if sent
    longitude         REAL,
    status            TEXT NOT NULL,                 -- current status, free text (已居家隔离 ...)
    reported_by       INTEGER NOT NULL,              -- who reported the discovery
    created_at        TEXT NOT NULL,
    deadline_at       TEXT NOT NULL,                 -- created_at + 2 hours
    state             TEXT NOT NULL DEFAULT 'open'
                      CHECK (state IN ('open', 'reported', 'closed')),
    direct_report_no  TEXT,                          -- the number of the online direct report
    reported_at       TEXT,                          -- when it was recorded as done
    reported_by_user  INTEGER,                       -- who recorded it
    reported_by_name  TEXT
);
CREATE INDEX cases_state ON cases(state, deadline_at);
CREATE INDEX cases_created ON cases(created_at);

-- The preliminary lockdown work, one row per item; ticked once, by whom and when.
CREATE TABLE case_checklist (
    case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    item        TEXT NOT NULL CHECK (item IN ('seal', 'contacts', 'transfer', 'isolation')),
    position    INTEGER NOT NULL,
    ticked_by   INTEGER,
    ticked_name TEXT,
    ticked_at   TEXT,
    PRIMARY KEY (case_id, item)
);

-- "收到" (acknowledge) presses: who saw an alert and when. One row per subject and person.
CREATE TABLE acks (
    id       INTEGER PRIMARY KEY,
    subject  TEXT NOT NULL,                          -- 'case:42', ...
    user_id  INTEGER NOT NULL,
    name     TEXT,
    at       TEXT NOT NULL,
    UNIQUE (subject, user_id)
);
