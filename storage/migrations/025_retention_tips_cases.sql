-- Retention (issue 11): when a closed tip's or a report-less case's personal data was purged
-- (NULL: not yet). The daily purge reads only closed ones not purged.
ALTER TABLE tips ADD COLUMN purged_at TEXT;
ALTER TABLE cases ADD COLUMN purged_at TEXT;
CREATE INDEX tips_retention ON tips(handled_at) WHERE purged_at IS NULL AND state = 'closed';
CREATE INDEX cases_retention ON cases(confirmed_at)
    WHERE purged_at IS NULL AND state = 'closed' AND report_id IS NULL;
