-- Drafts serve every conversation (arrival, invite, tip, visit, ...): one open per user.
ALTER TABLE drafts ADD COLUMN flow TEXT NOT NULL DEFAULT 'arrival';
