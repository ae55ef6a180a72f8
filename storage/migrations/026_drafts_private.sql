-- A conversation lives in its person's private chat (issue 11): a draft opened in a group
-- before that rule would go on asking for phones and ID numbers there. Group ids are
-- negative, users' positive.
UPDATE drafts SET chat_id = user_id WHERE chat_id < 0;
