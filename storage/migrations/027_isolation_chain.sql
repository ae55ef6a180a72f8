-- After discovery (issue 12): close contacts (密切接触者), centralised isolation sites
-- (集中隔离点), their stays and nucleic-acid tests until release (解除), transfer vehicles and
-- transfers (转运). One schema for the whole chain, so every layer builds on the same tables.

-- New staff roles: a site manager (scope: the site id), a dispatcher (scope: '*', the town's
-- vehicles), a vehicle crew (scope: the vehicle id), a unit liaison (scope: the unit id).
-- SQLite cannot change a CHECK: the tables are rebuilt as in migration 011.
CREATE TABLE staff_new (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    role        TEXT NOT NULL
                CHECK (role IN ('worker', 'village_admin', 'site_manager', 'dispatcher', 'crew',
                                'unit')),
    scope       TEXT NOT NULL,              -- grid, village, site, vehicle or unit id; '*' town
    name        TEXT,
    phone       TEXT,
    source      TEXT NOT NULL DEFAULT 'invite' CHECK (source IN ('invite', 'config')),
    active      INTEGER NOT NULL DEFAULT 1,
    invited_by  INTEGER,
    invite      TEXT,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    revoked_by  INTEGER
);
INSERT INTO staff_new SELECT * FROM staff;
DROP TABLE staff;
ALTER TABLE staff_new RENAME TO staff;
CREATE UNIQUE INDEX staff_one_active ON staff(user_id, role, scope) WHERE active = 1;
CREATE INDEX staff_scope ON staff(role, scope, active);
CREATE INDEX staff_user ON staff(user_id, active);

CREATE TABLE invites_new (
    token       TEXT PRIMARY KEY,
    role        TEXT NOT NULL
                CHECK (role IN ('worker', 'village_admin', 'site_manager', 'dispatcher', 'crew',
                                'unit')),
    scope       TEXT NOT NULL,
    created_by  INTEGER,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER,
    used_at     TEXT,
    revoked_at  TEXT
);
INSERT INTO invites_new SELECT * FROM invites;
DROP TABLE invites;
ALTER TABLE invites_new RENAME TO invites;

-- The ladder's new kinds: a case's contacts not traced in time ('trace'), a site's activation
-- countdown ('site'), a transfer step ('transfer'), a missed isolation test ('sample'); and
-- issue 13's unit report, mobilisation call and supplies ahead of time (one rebuild, not two).
CREATE TABLE escalation_queue_keep AS SELECT * FROM escalation_queue;
DROP TABLE escalation_queue;
CREATE TABLE escalations_new (
    subject      TEXT PRIMARY KEY,
    kind         TEXT NOT NULL
                 CHECK (kind IN ('arrival', 'tip', 'checkin', 'fever', 'case', 'withdrawal',
                                 'trace', 'site', 'transfer', 'sample', 'unit_report',
                                 'mobilisation', 'supplies')),
    parent       TEXT,
    ref          TEXT NOT NULL,
    grid_id      TEXT,
    village_id   TEXT NOT NULL,
    deadline_at  TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}',
    gen          INTEGER NOT NULL DEFAULT 1,
    step         INTEGER NOT NULL DEFAULT 0,
    reached      TEXT,
    state        TEXT NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'acked', 'handled')),
    started_at   TEXT NOT NULL,
    closed_at    TEXT,
    closed_by    INTEGER
);
INSERT INTO escalations_new SELECT * FROM escalations;
DROP TABLE escalations;
ALTER TABLE escalations_new RENAME TO escalations;
CREATE INDEX escalations_parent ON escalations(parent, state);
CREATE TABLE escalation_queue (
    id         INTEGER PRIMARY KEY,
    subject    TEXT NOT NULL REFERENCES escalations(subject) ON DELETE CASCADE,
    gen        INTEGER NOT NULL,
    step       INTEGER NOT NULL,
    chat_id    INTEGER NOT NULL DEFAULT 0,
    text       TEXT,
    queued_at  TEXT NOT NULL,
    sent_at    TEXT,
    UNIQUE (subject, gen, step, chat_id)
);
INSERT INTO escalation_queue SELECT * FROM escalation_queue_keep;
DROP TABLE escalation_queue_keep;
CREATE INDEX escalation_queue_waiting ON escalation_queue(sent_at, id);

-- A person traced as a contact: one row per person, however many cases they were exposed to
-- (dedup by ID number, then name + phone, through the blind indexes as in persons). A known
-- arrival or companion is linked, not copied again as a second unlinked record.
CREATE TABLE contacts (
    id             INTEGER PRIMARY KEY,
    ref            TEXT NOT NULL UNIQUE,         -- XF-MJ-20201120-0001
    name           TEXT NOT NULL,
    phone          TEXT,                         -- sealed
    phone_key      TEXT,                         -- blind index
    id_kind        TEXT,                         -- id | passport | NULL
    id_number      TEXT,                         -- sealed
    id_number_key  TEXT,                         -- blind index
    address        TEXT NOT NULL,
    village_id     TEXT NOT NULL,
    grid_id        TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('close', 'secondary')),  -- strongest exposure
    last_exposure  TEXT NOT NULL,                -- local date of the latest exposure
    report_id      INTEGER REFERENCES reports(id),  -- the known arrival report, if any
    person_idx     INTEGER,                      -- its persons.idx (0 main, then companions)
    chat_id        INTEGER,                      -- the person's own private chat, when known
    locale         TEXT,
    measure_kind   TEXT NOT NULL,
    measure_start  TEXT NOT NULL,                -- local date, day 1
    measure_end    TEXT NOT NULL,                -- local date, inclusive
    state          TEXT NOT NULL DEFAULT 'traced'
                   CHECK (state IN ('traced', 'isolating', 'released', 'case', 'closed')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX contacts_id_number_key ON contacts(id_number_key);
CREATE INDEX contacts_name_phone_key ON contacts(name, phone_key);
CREATE INDEX contacts_report ON contacts(report_id, person_idx);
CREATE INDEX contacts_grid ON contacts(grid_id, state);

-- One exposure: which case, how close, when, how; added by staff or by a CDC list's import.
CREATE TABLE case_contacts (
    case_id        INTEGER NOT NULL REFERENCES cases(id),
    contact_id     INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('close', 'secondary')),
    last_exposure  TEXT NOT NULL,
    exposure       TEXT,                         -- how exposed, free text
    note           TEXT,
    source         TEXT NOT NULL CHECK (source IN ('staff', 'import')),
    added_by       INTEGER NOT NULL,
    added_at       TEXT NOT NULL,
    PRIMARY KEY (case_id, contact_id)
);
CREATE INDEX case_contacts_contact ON case_contacts(contact_id);

-- Centralised isolation sites: from the config (source 'config') or added in chat.
CREATE TABLE sites (
    id                  TEXT PRIMARY KEY,        -- GL01
    name                TEXT NOT NULL,
    address             TEXT NOT NULL,
    village_id          TEXT,                    -- where it stands (nearest site: same village first)
    latitude            REAL,
    longitude           REAL,
    rooms               TEXT NOT NULL DEFAULT '[]',  -- JSON list of room numbers
    capacity            INTEGER NOT NULL CHECK (capacity >= 0),
    state               TEXT NOT NULL DEFAULT 'reserved'
                        CHECK (state IN ('reserved', 'activating', 'active', 'closed')),
    source              TEXT NOT NULL DEFAULT 'config' CHECK (source IN ('config', 'chat')),
    activation_by       INTEGER,                 -- the leader who ordered it
    activation_at       TEXT,
    activation_deadline TEXT,                    -- activation_at + 24 hours
    activated_at        TEXT,
    closed_at           TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

-- The activation checklist, one row per item, ticked once per activation by the site manager.
CREATE TABLE site_checklist (
    site_id     TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    item        TEXT NOT NULL CHECK (item IN ('staff', 'supplies', 'rooms', 'medical')),
    position    INTEGER NOT NULL,
    ticked_by   INTEGER,
    ticked_name TEXT,
    ticked_at   TEXT,
    PRIMARY KEY (site_id, item)
);

-- A person's stay at a site: assigned a room, arrived (入住), released (解除) or ended (became
-- a case, moved). Exactly one subject: a contact, an arrival's person, or a case's person.
-- A room holds one person at a time: the partial unique index decides a race for the last room.
CREATE TABLE stays (
    id            INTEGER PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES sites(id),
    room          TEXT NOT NULL,
    contact_id    INTEGER REFERENCES contacts(id),
    report_id     INTEGER REFERENCES reports(id),
    person_idx    INTEGER,
    case_id       INTEGER REFERENCES cases(id),
    measure_kind  TEXT NOT NULL,
    start_date    TEXT NOT NULL,                 -- local date, day 1 of the period
    end_date      TEXT NOT NULL,                 -- local date, inclusive
    test_days     TEXT NOT NULL DEFAULT '[]',    -- JSON list of day numbers (1 = start_date)
    state         TEXT NOT NULL DEFAULT 'assigned'
                  CHECK (state IN ('assigned', 'in', 'released', 'ended')),
    gen           INTEGER NOT NULL DEFAULT 1,    -- bumped on every change of dates: timer keys
    assigned_by   INTEGER NOT NULL,
    assigned_at   TEXT NOT NULL,
    arrived_by    INTEGER,
    arrived_at    TEXT,
    released_by   INTEGER,                       -- NULL with released_at: released by the bot
    released_at   TEXT,
    end_reason    TEXT,                          -- 'case', 'moved', ...
    certificate_at TEXT,                         -- when the release certificate was queued
    CHECK ((contact_id IS NOT NULL) + (report_id IS NOT NULL) + (case_id IS NOT NULL) = 1)
);
CREATE UNIQUE INDEX stays_room_taken ON stays(site_id, room) WHERE state IN ('assigned', 'in');
CREATE UNIQUE INDEX stays_one_contact ON stays(contact_id)
    WHERE contact_id IS NOT NULL AND state IN ('assigned', 'in');
CREATE UNIQUE INDEX stays_one_person ON stays(report_id, person_idx)
    WHERE report_id IS NOT NULL AND state IN ('assigned', 'in');
CREATE UNIQUE INDEX stays_one_case ON stays(case_id)
    WHERE case_id IS NOT NULL AND state IN ('assigned', 'in');
CREATE INDEX stays_site ON stays(site_id, state);
CREATE INDEX stays_state ON stays(state, end_date);

-- Nucleic-acid tests of a stay, one row per scheduled day: sampled, then a result.
CREATE TABLE stay_tests (
    stay_id     INTEGER NOT NULL REFERENCES stays(id) ON DELETE CASCADE,
    test_date   TEXT NOT NULL,                   -- local date of the scheduled test
    sampled_at  TEXT,
    sampled_by  INTEGER,
    result      TEXT CHECK (result IN ('negative', 'positive', 'pending')),
    result_at   TEXT,
    result_by   INTEGER,
    PRIMARY KEY (stay_id, test_date)
);
CREATE INDEX stay_tests_date ON stay_tests(test_date, result);

-- Transfer vehicles (负压救护车 / 转运车): from the config or added in chat.
CREATE TABLE vehicles (
    id               TEXT PRIMARY KEY,           -- V01
    plate            TEXT NOT NULL UNIQUE,       -- 渝A·12345 as written
    kind             TEXT NOT NULL CHECK (kind IN ('negative_pressure', 'transfer')),
    crew_name        TEXT,
    crew_phone       TEXT,                       -- sealed
    state            TEXT NOT NULL DEFAULT 'available'
                     CHECK (state IN ('available', 'dispatched', 'disinfecting',
                                      'out_of_service')),
    available_at     TEXT,                       -- end of the disinfection after a delivery
    source           TEXT NOT NULL DEFAULT 'config' CHECK (source IN ('config', 'chat')),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- A transfer request: people from an address to a site, dispatched to a vehicle, acknowledged
-- by its crew, picked up, delivered; each step's time kept.
CREATE TABLE transfers (
    id               INTEGER PRIMARY KEY,
    ref              TEXT NOT NULL UNIQUE,       -- XF-ZY-20201120-01
    site_id          TEXT NOT NULL REFERENCES sites(id),
    from_address     TEXT NOT NULL,
    village_id       TEXT NOT NULL,
    grid_id          TEXT,
    urgency          TEXT NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal', 'urgent')),
    vehicle_id       TEXT REFERENCES vehicles(id),
    state            TEXT NOT NULL DEFAULT 'requested'
                     CHECK (state IN ('requested', 'dispatched', 'acknowledged', 'picked_up',
                                      'delivered', 'cancelled')),
    requested_by     INTEGER NOT NULL,
    requested_at     TEXT NOT NULL,
    dispatched_by    INTEGER,
    dispatched_at    TEXT,
    acknowledged_by  INTEGER,
    acknowledged_at  TEXT,
    picked_up_at     TEXT,
    delivered_at     TEXT,
    cancelled_at     TEXT,
    note             TEXT
);
CREATE INDEX transfers_state ON transfers(state, requested_at);
CREATE UNIQUE INDEX transfers_one_vehicle ON transfers(vehicle_id)
    WHERE vehicle_id IS NOT NULL AND state IN ('dispatched', 'acknowledged', 'picked_up');

-- The people of a transfer: each by their stay (the room waiting for them at the site).
CREATE TABLE transfer_people (
    transfer_id  INTEGER NOT NULL REFERENCES transfers(id) ON DELETE CASCADE,
    stay_id      INTEGER NOT NULL REFERENCES stays(id),
    PRIMARY KEY (transfer_id, stay_id)
);
CREATE INDEX transfer_people_stay ON transfer_people(stay_id);
