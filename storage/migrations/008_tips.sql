-- Neighbour tips (邻里监督提供线索) and their checking by grid staff.
-- The tipster is stored only to limit abuse (tips per person per day) and to tell them the
-- outcome; staff views never read the tipster_* columns (storage/tips.py STAFF_COLUMNS).

CREATE TABLE tips (
    id               INTEGER PRIMARY KEY,
    ref              TEXT NOT NULL UNIQUE,          -- XF-XS-20201026-0001 (XS: 线索)
    draft_token      TEXT NOT NULL UNIQUE,          -- a double tap on "submit" makes one tip
    tipster_user_id  INTEGER NOT NULL,              -- ONLY for the daily limit and the closing message
    tipster_chat_id  INTEGER NOT NULL,
    tipster_locale   TEXT NOT NULL,
    kind             TEXT NOT NULL
                     CHECK (kind IN ('unregistered', 'symptoms', 'gathering', 'venue', 'other')),
    venue_kind       TEXT,                          -- hotel | guesthouse | bnb | daily_rental | farmstay
    person_name      TEXT,                          -- the person (or venue) tipped about, if known
    person_phone     TEXT,
    relation         TEXT,                          -- the person's relation to the place
    description      TEXT,
    village_id       TEXT NOT NULL,
    grid_id          TEXT,                          -- NULL: not known to the tipster
    address          TEXT,
    latitude         REAL,                          -- the location pin (WGS-84), if sent
    longitude        REAL,
    since            TEXT,                          -- local date, NULL: unknown
    photo_file_id    TEXT,
    state            TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'checking', 'closed')),
    outcome          TEXT CHECK (outcome IN ('confirmed', 'unfounded', 'not_found')),
    report_id        INTEGER REFERENCES reports(id), -- the arrival registered or linked
    escalated_at     TEXT,
    created_at       TEXT NOT NULL,
    deadline_at      TEXT NOT NULL,                 -- to be checked by then (2 h symptoms, else 12 h)
    handled_at       TEXT,                          -- closed
    handled_by       INTEGER
);
CREATE INDEX tips_state ON tips(state, village_id, grid_id);
CREATE INDEX tips_tipster ON tips(tipster_user_id, created_at);
CREATE INDEX tips_created ON tips(created_at);

-- Every step of the check, timestamped with who did it.
CREATE TABLE tip_actions (
    id         INTEGER PRIMARY KEY,
    tip_id     INTEGER NOT NULL REFERENCES tips(id) ON DELETE CASCADE,
    action     TEXT NOT NULL CHECK (action IN ('checking', 'confirmed', 'unfounded', 'not_found',
                                               'escalated')),
    actor      INTEGER NOT NULL,
    at         TEXT NOT NULL,
    note       TEXT,
    report_id  INTEGER REFERENCES reports(id),
    how        TEXT                                 -- confirmed: registered | linked | handled
);
CREATE INDEX tip_actions_tip ON tip_actions(tip_id);
