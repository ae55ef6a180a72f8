-- A case's contact tracing (密接排查) done: staff mark its contact list complete, which stops
-- the case's 'trace' escalation (bot.actions.contacts.complete). Contacts found later are
-- still added; the mark says who answered for the list and when.
ALTER TABLE cases ADD COLUMN traced_at TEXT;
ALTER TABLE cases ADD COLUMN traced_by INTEGER;
ALTER TABLE cases ADD COLUMN traced_name TEXT;
