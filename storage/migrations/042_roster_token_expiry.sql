-- Issue 13, staff filed by category: a roster join link (t.me/<bot>?start=r-<token>) expires
-- like an invite does. NULL: no link outstanding.
ALTER TABLE roster ADD COLUMN token_expires_at TEXT;
