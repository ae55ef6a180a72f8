-- Issue 13, the daily unit report: a report still due when its unit is retired (removed from
-- the config) is closed, not left to climb the ladder. NULL: open.
ALTER TABLE unit_reports ADD COLUMN closed_at TEXT;
