-- Alerts survive an outage (issue 11). A row now fails only on a definite refusal or when it
-- is older than outbox.max_age_hours, and every failure is counted: ``failed_at`` says when
-- (the daily report and `paicha status` count failures per period).
-- ``uncertain`` counts sends whose answer was lost (TimedOut after the request went out): the
-- message may have been delivered. A row delivered later with uncertain > 0 may have reached
-- its chat twice; the daily report and the health command count these "possible repeats".
ALTER TABLE outbox ADD COLUMN failed_at TEXT;
ALTER TABLE outbox ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_failed ON outbox (failed_at) WHERE state = 'failed';
CREATE INDEX outbox_repeats ON outbox (sent_at) WHERE uncertain > 0 AND state = 'sent';
