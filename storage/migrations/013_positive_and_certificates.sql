-- Issue 10: a case's discovery time (the 2-hour direct report runs from it), cases opened by a
-- positive test result pending a human's confirmation, and the quarantine-release certificate
-- (解除隔离证明) of an arrival who says the first-entry quarantine is done.

-- When the case was discovered (the countdown's start); NULL on older rows: their created_at.
ALTER TABLE cases ADD COLUMN discovered_at TEXT;
-- What opened the case: NULL a person's /case report, 'arrival' or 'monitoring' a positive
-- test result (self-reported on arrival, or recorded by a worker).
ALTER TABLE cases ADD COLUMN source TEXT CHECK (source IN ('arrival', 'monitoring'));
-- A case opened by a positive result waits for a human: 'pending', then 'confirmed' (the
-- case flow's 定人定位定状态 submitted, or confirmed in the group) or 'ruled_out' (closed).
-- NULL: reported by a person, confirmed by that report.
ALTER TABLE cases ADD COLUMN confirmation TEXT
    CHECK (confirmation IN ('pending', 'confirmed', 'ruled_out'));
ALTER TABLE cases ADD COLUMN confirmed_by INTEGER;
ALTER TABLE cases ADD COLUMN confirmed_at TEXT;
-- The monitoring test day whose positive result opened the case (one case per sample).
ALTER TABLE cases ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX cases_source_key ON cases(source_key) WHERE source_key IS NOT NULL;

-- The quarantine-release certificate: 'pending' until a worker checked it ('checked') or
-- found it wanting ('rejected'); the photo's Telegram file_id when the resident sent one.
ALTER TABLE reports ADD COLUMN certificate TEXT
    CHECK (certificate IN ('pending', 'checked', 'rejected'));
ALTER TABLE reports ADD COLUMN certificate_photo TEXT;
ALTER TABLE reports ADD COLUMN certificate_by INTEGER;
ALTER TABLE reports ADD COLUMN certificate_at TEXT;
