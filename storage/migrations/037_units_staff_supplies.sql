-- Issue 13: key units and venues report in (社区吹哨、单位报到), staff filed by category and
-- mobilised (分类建档、紧急动员), supplies counted and sent to the front line (物资). One schema
-- for the three, so every layer builds on the same tables.

-- A key unit or venue (重点单位与场所): the config's [[key_units]] seeded at start (the file's
-- details win; a state reached in chat, such as key monitoring, is kept), or added in chat.
-- Its liaison (联络员) is staff with role 'unit' and the unit id as scope; the grid worker who
-- follows it is the worker of ``grid_id``.
CREATE TABLE units (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL
                  CHECK (kind IN ('enterprise', 'school', 'hotel', 'homestay', 'rental',
                                  'farmstay', 'other')),
    village_id    TEXT NOT NULL,
    grid_id       TEXT,
    address       TEXT NOT NULL DEFAULT '',
    headcount     INTEGER NOT NULL DEFAULT 0 CHECK (headcount >= 0),
    note          TEXT NOT NULL DEFAULT '',
    monitored     INTEGER NOT NULL DEFAULT 0,      -- 重点监测: reports twice a day
    monitored_by  INTEGER,
    monitored_at  TEXT,
    source        TEXT NOT NULL DEFAULT 'config' CHECK (source IN ('config', 'chat')),
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX units_village ON units(village_id, active);

-- The unit an arrival report was made for (its liaison's report, a guest's own by the
-- venue's QR code, a row of a bulk import); NULL: a resident's own report.
ALTER TABLE reports ADD COLUMN unit_id TEXT REFERENCES units(id);
CREATE INDEX reports_unit ON reports(unit_id, arrival_date) WHERE unit_id IS NOT NULL;

-- The daily unit report (单位日报): one row per unit, day and slot (slot 2 only for a unit
-- under key monitoring), created 'due' when it is asked for, 'filed' by the liaison.
CREATE TABLE unit_reports (
    id            INTEGER PRIMARY KEY,
    unit_id       TEXT NOT NULL REFERENCES units(id),
    day           TEXT NOT NULL,                   -- the town's local date
    slot          INTEGER NOT NULL DEFAULT 1 CHECK (slot IN (1, 2)),
    state         TEXT NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'filed')),
    zero          INTEGER NOT NULL DEFAULT 0,      -- 零报告: nothing to report
    present       INTEGER CHECK (present >= 0),    -- headcount present (在岗/在校/在住)
    new_arrivals  INTEGER CHECK (new_arrivals >= 0),
    key_region    INTEGER CHECK (key_region >= 0), -- people from key regions
    symptomatic   INTEGER CHECK (symptomatic >= 0),-- fever or symptoms
    note          TEXT NOT NULL DEFAULT '',
    due_at        TEXT NOT NULL,
    deadline_at   TEXT NOT NULL,
    filed_by      INTEGER,
    filed_at      TEXT,
    UNIQUE (unit_id, day, slot)
);
CREATE INDEX unit_reports_day ON unit_reports(day, state);

-- Staff filed by category (分类建档): one row per person on file, in the bot or not yet.
-- ``user_id`` is bound when the person opens their join link (token) or is already staff.
-- Category and skills are config ids (bot.config StaffSettings); phone sealed.
CREATE TABLE roster (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER UNIQUE,
    name          TEXT NOT NULL,
    phone         TEXT,
    category      TEXT,                            -- NULL: not filed yet (asked in /me)
    village_id    TEXT,                            -- where they serve (下沉干部: sent to)
    grid_id       TEXT,
    skills        TEXT NOT NULL DEFAULT '[]',      -- JSON list of skill ids
    availability  TEXT NOT NULL DEFAULT 'available'
                  CHECK (availability IN ('available', 'busy', 'away')),
    note          TEXT NOT NULL DEFAULT '',
    token         TEXT UNIQUE,                     -- the join link's token, until used
    active        INTEGER NOT NULL DEFAULT 1,
    created_by    INTEGER,
    created_at    TEXT NOT NULL,
    updated_by    INTEGER,
    updated_at    TEXT NOT NULL
);
CREATE INDEX roster_category ON roster(category, village_id, active);

-- A mobilisation call (紧急动员) and its roll-call, one row per person called.
CREATE TABLE mobilisations (
    id             INTEGER PRIMARY KEY,
    ref            TEXT NOT NULL UNIQUE,           -- XF-DY-YYYYMMDD-NN
    drill          INTEGER NOT NULL DEFAULT 0,     -- 演练: marked everywhere it appears
    target         TEXT NOT NULL DEFAULT '{}',     -- JSON: category, village, skill, people
    place          TEXT NOT NULL,                  -- where
    meet_at        TEXT NOT NULL,                  -- when (as the caller wrote it)
    task           TEXT NOT NULL,                  -- what
    village_id     TEXT,                           -- the called village, if one (the ladder)
    caller_user_id INTEGER NOT NULL,
    caller_chat_id INTEGER NOT NULL,
    rollcall_key   TEXT,                           -- the outbox key of the live roll-call
    state          TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    created_at     TEXT NOT NULL,
    closed_at      TEXT,
    closed_by      INTEGER
);
CREATE TABLE mobilisation_calls (
    mobilisation_id INTEGER NOT NULL REFERENCES mobilisations(id) ON DELETE CASCADE,
    roster_id       INTEGER NOT NULL REFERENCES roster(id),
    state           TEXT NOT NULL DEFAULT 'sent'
                    CHECK (state IN ('unreachable', 'sent', 'received', 'arrived',
                                     'declined')),
    reason          TEXT,                          -- 无法到岗: why
    answered_at     TEXT,
    arrived_at      TEXT,
    reminded_at     TEXT,
    PRIMARY KEY (mobilisation_id, roster_id)
);
CREATE INDEX mobilisation_calls_open ON mobilisation_calls(state, mobilisation_id);

-- Supplies (物资). A place is 'town' (the town store), 'v:<village id>' or 's:<site id>'; an
-- item is a config id ([[supplies.items]]). ``below`` is set when the quantity drops under
-- the minimum and the alert is queued, cleared when it is back at or above: one alert per
-- crossing, not one per movement.
CREATE TABLE supply_stock (
    place       TEXT NOT NULL,
    item        TEXT NOT NULL,
    quantity    INTEGER NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    minimum     INTEGER NOT NULL DEFAULT 0 CHECK (minimum >= 0),
    below       INTEGER NOT NULL DEFAULT 0,
    counted_at  TEXT,                              -- the last 盘点
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (place, item)
);
-- Every movement, one row each (the audit of the stock): received, issued (to a place or a
-- person), counted (the difference found), or moved by a village's request.
CREATE TABLE supply_moves (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('receive', 'issue', 'count')),
    place           TEXT NOT NULL,
    item            TEXT NOT NULL,
    delta           INTEGER NOT NULL,
    quantity_after  INTEGER NOT NULL,
    to_place        TEXT,
    to_person       TEXT,
    request_id      INTEGER REFERENCES supply_requests(id),
    note            TEXT NOT NULL DEFAULT '',
    user_id         INTEGER NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX supply_moves_place ON supply_moves(place, item, created_at);
-- A village's request for items to the town store keeper (issued, or refused with a reason).
CREATE TABLE supply_requests (
    id            INTEGER PRIMARY KEY,
    ref           TEXT NOT NULL UNIQUE,            -- XF-WZ-YYYYMMDD-NN
    place         TEXT NOT NULL,                   -- the requesting place
    items         TEXT NOT NULL,                   -- JSON [{"item": id, "quantity": n}]
    note          TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT 'open'
                  CHECK (state IN ('open', 'issued', 'refused', 'cancelled')),
    reason        TEXT,
    requested_by  INTEGER NOT NULL,
    requested_at  TEXT NOT NULL,
    decided_by    INTEGER,
    decided_at    TEXT
);
CREATE INDEX supply_requests_state ON supply_requests(state, requested_at);
