-- /stats (statistics on demand) answers from the live database in well under a second at a
-- million arrivals. Joining each report to its people and reading each report's JSON for
-- its origin cost several microseconds a row, so a report carries what /stats groups by,
-- kept by triggers (the writers stay as they are):
--   people           its people counted, as in the daily report and the arrivals register:
--                    a companion linked to his own report (persons.self_report_id) is counted
--                    there while it is open, else (withdrawn, closed) here again
--   origin_province  data.origin.province, origin_city data.origin.city (names as answered)
-- A report's people are counted afresh (its few rows, over persons' index) whenever one of its
-- persons changes, and for the reports listing its people when a report's state opens or
-- closes. One covering index holds every column an arrival view filters or groups by; the
-- check-ins' one the check-in view's.
ALTER TABLE reports ADD COLUMN people INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN origin_province TEXT;
ALTER TABLE reports ADD COLUMN origin_city TEXT;

UPDATE reports SET
    people = (SELECT COUNT(*) FROM persons p WHERE p.report_id = reports.id
              AND (p.self_report_id IS NULL OR NOT EXISTS (SELECT 1 FROM reports o
                   WHERE o.id = p.self_report_id AND o.state = 'open'))),
    origin_province = json_extract(data, '$.origin.province'),
    origin_city = json_extract(data, '$.origin.city');

CREATE TRIGGER reports_origin_insert AFTER INSERT ON reports BEGIN
    UPDATE reports SET origin_province = json_extract(NEW.data, '$.origin.province'),
                       origin_city = json_extract(NEW.data, '$.origin.city')
    WHERE id = NEW.id;
END;
CREATE TRIGGER reports_origin_update AFTER UPDATE OF data ON reports BEGIN
    UPDATE reports SET origin_province = json_extract(NEW.data, '$.origin.province'),
                       origin_city = json_extract(NEW.data, '$.origin.city')
    WHERE id = NEW.id;
END;
CREATE TRIGGER persons_people_insert AFTER INSERT ON persons BEGIN
    UPDATE reports SET people = (SELECT COUNT(*) FROM persons p WHERE p.report_id = reports.id
              AND (p.self_report_id IS NULL OR NOT EXISTS (SELECT 1 FROM reports o
                   WHERE o.id = p.self_report_id AND o.state = 'open')))
    WHERE id = NEW.report_id;
END;
CREATE TRIGGER persons_people_delete AFTER DELETE ON persons BEGIN
    UPDATE reports SET people = (SELECT COUNT(*) FROM persons p WHERE p.report_id = reports.id
              AND (p.self_report_id IS NULL OR NOT EXISTS (SELECT 1 FROM reports o
                   WHERE o.id = p.self_report_id AND o.state = 'open')))
    WHERE id = OLD.report_id;
END;
CREATE TRIGGER persons_people_update AFTER UPDATE OF report_id, self_report_id ON persons BEGIN
    UPDATE reports SET people = (SELECT COUNT(*) FROM persons p WHERE p.report_id = reports.id
              AND (p.self_report_id IS NULL OR NOT EXISTS (SELECT 1 FROM reports o
                   WHERE o.id = p.self_report_id AND o.state = 'open')))
    WHERE id IN (OLD.report_id, NEW.report_id);
END;
CREATE TRIGGER reports_people_state AFTER UPDATE OF state ON reports
WHEN (OLD.state = 'open') != (NEW.state = 'open') BEGIN
    UPDATE reports SET people = (SELECT COUNT(*) FROM persons p WHERE p.report_id = reports.id
              AND (p.self_report_id IS NULL OR NOT EXISTS (SELECT 1 FROM reports o
                   WHERE o.id = p.self_report_id AND o.state = 'open')))
    WHERE id IN (SELECT p.report_id FROM persons p WHERE p.self_report_id = NEW.id);
END;

CREATE INDEX reports_stats ON reports(state, created_at, village_id, grid_id, category, risk,
                                      origin_province, origin_city, people);

-- The check-in view: 150,000 people under monitoring check in 2.1 million times in 14 days,
-- too many to count per question. The slots are tallied per UTC hour of the slot (a local
-- day is whole hours in a town whose offset is), grid (the monitoring row's) and state,
-- kept by triggers: a few thousand rows a fortnight.
CREATE TABLE checkin_tally (
    hour    TEXT NOT NULL,             -- substr(slot_at, 1, 13): 2020-10-25T02
    grid_id TEXT NOT NULL,
    state   TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (hour, grid_id, state)
) WITHOUT ROWID;

INSERT INTO checkin_tally (hour, grid_id, state, n)
SELECT substr(c.slot_at, 1, 13), m.grid_id, c.state, COUNT(*)
FROM checkins c JOIN monitoring m ON m.id = c.monitoring_id
GROUP BY 1, 2, 3;

CREATE TRIGGER checkins_tally_insert AFTER INSERT ON checkins BEGIN
    INSERT INTO checkin_tally (hour, grid_id, state, n)
    SELECT substr(NEW.slot_at, 1, 13), m.grid_id, NEW.state, 1 FROM monitoring m
    WHERE m.id = NEW.monitoring_id
    ON CONFLICT (hour, grid_id, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER checkins_tally_update AFTER UPDATE OF state, slot_at, monitoring_id ON checkins
BEGIN
    UPDATE checkin_tally SET n = n - 1
    WHERE hour = substr(OLD.slot_at, 1, 13) AND state = OLD.state
      AND grid_id = (SELECT m.grid_id FROM monitoring m WHERE m.id = OLD.monitoring_id);
    INSERT INTO checkin_tally (hour, grid_id, state, n)
    SELECT substr(NEW.slot_at, 1, 13), m.grid_id, NEW.state, 1 FROM monitoring m
    WHERE m.id = NEW.monitoring_id
    ON CONFLICT (hour, grid_id, state) DO UPDATE SET n = n + 1;
END;
-- A check-in deleted with its monitoring row (a cascade) finds no grid: the monitoring
-- row's own trigger took its check-ins off first.
CREATE TRIGGER checkins_tally_delete AFTER DELETE ON checkins BEGIN
    UPDATE checkin_tally SET n = n - 1
    WHERE hour = substr(OLD.slot_at, 1, 13) AND state = OLD.state
      AND grid_id = (SELECT m.grid_id FROM monitoring m WHERE m.id = OLD.monitoring_id);
END;
CREATE TRIGGER monitoring_tally_delete BEFORE DELETE ON monitoring BEGIN
    UPDATE checkin_tally SET n = n - (SELECT COUNT(*) FROM checkins c
                                      WHERE c.monitoring_id = OLD.id
                                        AND substr(c.slot_at, 1, 13) = checkin_tally.hour
                                        AND c.state = checkin_tally.state)
    WHERE grid_id = OLD.grid_id;
END;
CREATE TRIGGER monitoring_tally_grid AFTER UPDATE OF grid_id ON monitoring
WHEN OLD.grid_id IS NOT NEW.grid_id BEGIN
    UPDATE checkin_tally SET n = n - (SELECT COUNT(*) FROM checkins c
                                      WHERE c.monitoring_id = NEW.id
                                        AND substr(c.slot_at, 1, 13) = checkin_tally.hour
                                        AND c.state = checkin_tally.state)
    WHERE grid_id = OLD.grid_id;
    INSERT INTO checkin_tally (hour, grid_id, state, n)
    SELECT substr(c.slot_at, 1, 13), NEW.grid_id, c.state, COUNT(*) FROM checkins c
    WHERE c.monitoring_id = NEW.id GROUP BY 1, 3
    ON CONFLICT (hour, grid_id, state) DO UPDATE SET n = n + excluded.n;
END;
