-- Retention (issue 11): when a report's personal data was purged (NULL: not yet). The daily
-- purge reads only reports not purged whose measure ended long enough ago, or withdrawn.
ALTER TABLE reports ADD COLUMN purged_at TEXT;
CREATE INDEX reports_retention ON reports(measure_end) WHERE purged_at IS NULL;
CREATE INDEX reports_withdrawn ON reports(updated_at) WHERE purged_at IS NULL AND state = 'withdrawn';
