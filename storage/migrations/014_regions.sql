-- Key regions (重点地区): the regions FILE is the one source of truth. These tables hold what
-- the bot last applied from it, every change seen (from /regions or a hand edit), the
-- durable re-screen each change drives, and the downgrades proposed to workers.

-- The list last applied, as JSON (one row): a newly read file is diffed against it.
CREATE TABLE region_snapshot (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    regions     TEXT NOT NULL,              -- JSON list of regions (bot.domain.regions)
    applied_at  TEXT NOT NULL
);

-- One row per change of the list: who (a staff user id; NULL with source 'file': a hand
-- edit), when, what; 'pending' until its re-screen has committed (a crash mid-way: the next
-- tick runs it again, its messages keyed so none is sent twice).
CREATE TABLE region_changes (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       INTEGER,
    source      TEXT NOT NULL CHECK (source IN ('chat', 'file')),
    draft       TEXT UNIQUE,                -- the /regions draft that made it (a double tap)
    added       TEXT NOT NULL,              -- JSON list of regions now listed, not before
    removed     TEXT NOT NULL,              -- JSON list of regions listed before, not now
    regions     TEXT NOT NULL,              -- JSON: the whole list after the change
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    upgraded    INTEGER NOT NULL DEFAULT 0,
    proposed    INTEGER NOT NULL DEFAULT 0,
    done_at     TEXT
);
CREATE INDEX region_changes_state ON region_changes(state, id);

-- The places of a report (origin and 14-day travel), so a re-screen selects its candidates
-- by SQL instead of reading every report's JSON.
CREATE TABLE report_places (
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    province    TEXT NOT NULL,
    city        TEXT,
    district    TEXT
);
CREATE INDEX report_places_province ON report_places(province, report_id);
CREATE INDEX report_places_report ON report_places(report_id);
CREATE INDEX reports_arrival ON reports(arrival_date, state);

INSERT INTO report_places (report_id, province, city, district)
SELECT id, json_extract(data, '$.origin.province'), json_extract(data, '$.origin.city'),
       json_extract(data, '$.origin.district')
FROM reports WHERE json_extract(data, '$.origin.province') IS NOT NULL;

INSERT INTO report_places (report_id, province, city, district)
SELECT r.id, json_extract(t.value, '$.province'), json_extract(t.value, '$.city'),
       json_extract(t.value, '$.district')
FROM reports r, json_each(r.data, '$.travel') t
WHERE json_extract(t.value, '$.province') IS NOT NULL;

-- A re-screen that would lower someone's measure only proposes it: the grid worker confirms
-- (the new measure is applied) or keeps the current one.
CREATE TABLE region_proposals (
    id          INTEGER PRIMARY KEY,
    change_id   INTEGER NOT NULL REFERENCES region_changes(id),
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    old_risk    TEXT NOT NULL,
    new_risk    TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'confirmed', 'kept', 'superseded')),
    decided_by  INTEGER,
    decided_at  TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (change_id, report_id)
);
CREATE INDEX region_proposals_report ON region_proposals(report_id, state);
