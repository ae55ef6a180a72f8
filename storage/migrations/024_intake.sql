-- Nothing lost (issue 11): Telegram forgets an update once the next getUpdates confirms it,
-- which python-telegram-bot sends before the update is handled. Each batch fetched is stored
-- here first (bot/runtime/intake.py) and deleted once handled; a crash leaves the unhandled
-- ones, handled first at the next start.
CREATE TABLE intake (
    update_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL  -- the update's JSON, sealed whole (a message may carry a phone, an ID)
);

-- The offset the next getUpdates sends: one past the newest update stored, so the batch a
-- crash left unconfirmed is not fetched (and handled) a second time.
CREATE TABLE intake_offset (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    next_update_id INTEGER NOT NULL
);
