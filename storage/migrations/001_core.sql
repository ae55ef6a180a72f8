-- Core tables: people who talk to the bot, report drafts, reports and their history, audit.
-- Times are ISO-8601 UTC text; they sort and compare as strings.

CREATE TABLE users (
    user_id     INTEGER PRIMARY KEY,
    locale      TEXT,                      -- chosen with /language; NULL: follow Telegram's
    first_seen  TEXT NOT NULL
);

-- One unfinished report per user. The step and every answer so far live here, written on
-- each answer, so a restart resumes at the same question and a timeout can be found by SQL.
CREATE TABLE drafts (
    user_id         INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL,
    token           TEXT NOT NULL,         -- identifies this draft; the report keeps it
    locale          TEXT NOT NULL,
    step            TEXT NOT NULL,
    data            TEXT NOT NULL,         -- JSON answers
    last_update_id  INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX drafts_updated ON drafts(updated_at);

CREATE TABLE counters (
    scope   TEXT PRIMARY KEY,
    value   INTEGER NOT NULL
);

CREATE TABLE reports (
    id                INTEGER PRIMARY KEY,
    ref               TEXT NOT NULL UNIQUE,
    draft_token       TEXT NOT NULL UNIQUE,   -- a double submit of one draft makes one report
    reporter_user_id  INTEGER NOT NULL,
    reporter_chat_id  INTEGER NOT NULL,
    locale            TEXT NOT NULL,
    relation          TEXT NOT NULL,
    village_id        TEXT NOT NULL,
    grid_id           TEXT NOT NULL,
    address           TEXT NOT NULL,
    arrival_date      TEXT NOT NULL,
    category          TEXT NOT NULL,          -- 三返 / 四外 / ... (reason for coming)
    risk              TEXT NOT NULL,          -- risk category (bot.domain.risk)
    alert             INTEGER NOT NULL,
    measure_kind      TEXT NOT NULL,
    measure_start     TEXT NOT NULL,
    measure_end       TEXT NOT NULL,
    data              TEXT NOT NULL,          -- JSON: every answer, as submitted
    state             TEXT NOT NULL DEFAULT 'open',   -- open | withdrawn
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX reports_grid ON reports(grid_id, state);
CREATE INDEX reports_reporter ON reports(reporter_user_id);

-- The people a report registers: the main person (idx 0) and companions (同行人员).
CREATE TABLE persons (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    name        TEXT NOT NULL,
    phone       TEXT,
    id_kind     TEXT,                       -- id | passport | NULL (not given)
    id_number   TEXT,
    UNIQUE (report_id, idx)
);
CREATE INDEX persons_id_number ON persons(id_number);
CREATE INDEX persons_name_phone ON persons(name, phone);

-- Earlier versions of a report, kept when the same person reports again.
CREATE TABLE report_history (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    data        TEXT NOT NULL,
    persons     TEXT NOT NULL,
    saved_at    TEXT NOT NULL,
    UNIQUE (report_id, version)
);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       INTEGER,                    -- Telegram user id; NULL for the system
    action      TEXT NOT NULL,
    subject     TEXT,
    detail      TEXT
);
CREATE INDEX audit_subject ON audit(subject);
