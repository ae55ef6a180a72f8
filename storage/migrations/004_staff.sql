-- Staff and their scopes, single-use invites, verification of reports, door-to-door visits.

-- One row per role and scope: a worker holding three grids has three rows. Config-listed
-- workers and village admins are seeded at start (source 'config'); a revoked row stays
-- (active 0) so that a restart does not bring it back.
CREATE TABLE staff (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('worker', 'village_admin')),
    scope       TEXT NOT NULL,              -- grid id (worker) or village id (village admin)
    name        TEXT,
    phone       TEXT,
    source      TEXT NOT NULL DEFAULT 'invite' CHECK (source IN ('invite', 'config')),
    active      INTEGER NOT NULL DEFAULT 1,
    invited_by  INTEGER,
    invite      TEXT,                       -- the invite token it was bound with
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    revoked_by  INTEGER
);
CREATE UNIQUE INDEX staff_one_active ON staff(user_id, role, scope) WHERE active = 1;
CREATE INDEX staff_scope ON staff(role, scope, active);
CREATE INDEX staff_user ON staff(user_id, active);

CREATE TABLE invites (
    token       TEXT PRIMARY KEY,           -- urlsafe; the deep link is inv-<token>
    role        TEXT NOT NULL CHECK (role IN ('worker', 'village_admin')),
    scope       TEXT NOT NULL,
    created_by  INTEGER,                    -- NULL: made with the CLI
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER,
    used_at     TEXT,
    revoked_at  TEXT
);

-- Review of a report by its grid's staff: pending -> verified | wrong | escalated
-- (escalated stays in the inbox until verified; a new version of the report is pending again).
ALTER TABLE reports ADD COLUMN review TEXT NOT NULL DEFAULT 'pending';
CREATE INDEX reports_review ON reports(review, grid_id, created_at);

CREATE TABLE verifications (
    id                   INTEGER PRIMARY KEY,
    report_id            INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    version              INTEGER NOT NULL,   -- the report version that was checked
    worker               INTEGER NOT NULL,
    outcome              TEXT NOT NULL CHECK (outcome IN ('verified', 'wrong', 'escalated')),
    health_code_checked  INTEGER,
    test_checked         INTEGER,
    measure_kind         TEXT,
    measure_start        TEXT,
    note                 TEXT,
    at                   TEXT NOT NULL
);
CREATE INDEX verifications_report ON verifications(report_id);

-- Door-to-door screening (入户排查).
CREATE TABLE visits (
    id              INTEGER PRIMARY KEY,
    draft_token     TEXT NOT NULL UNIQUE,   -- a double tap on "save" stores one visit
    grid_id         TEXT NOT NULL,
    address         TEXT NOT NULL,
    worker          INTEGER NOT NULL,
    at              TEXT NOT NULL,
    refused         INTEGER NOT NULL DEFAULT 0,
    people_present  INTEGER,
    temperatures    TEXT NOT NULL DEFAULT '[]',   -- JSON list of numbers
    fever           INTEGER NOT NULL DEFAULT 0,   -- any temperature >= 37.3
    arrivals        INTEGER NOT NULL DEFAULT 0,   -- someone arrived from outside in 14 days
    note            TEXT
);
CREATE INDEX visits_grid_at ON visits(grid_id, at);

-- Arrivals registered on the spot during a visit.
CREATE TABLE visit_reports (
    visit_id   INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
    report_id  INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    PRIMARY KEY (visit_id, report_id)
);
