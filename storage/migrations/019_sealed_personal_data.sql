-- Personal data sealed at rest (storage/cipher.py): phones and ID numbers are stored sealed
-- in their own columns and JSON keys; lookups and dedup go through blind indexes (a keyed
-- hash of the normalised value) instead. The values already stored are sealed, and these
-- columns filled, by a one-time step in Python at open (storage/db.py, Database._unlock).
ALTER TABLE persons ADD COLUMN phone_key TEXT;
ALTER TABLE persons ADD COLUMN id_number_key TEXT;
DROP INDEX persons_id_number;
DROP INDEX persons_name_phone;
CREATE INDEX persons_id_number_key ON persons(id_number_key);
CREATE INDEX persons_name_phone_key ON persons(name, phone_key);

-- The data key's check: a known token sealed under it. A key that does not open it is not
-- this database's, and the bot stops. No row: personal data not sealed yet (the one-time step).
CREATE TABLE data_key (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    kid          TEXT NOT NULL,      -- the key id sealed values carry (enc1:<kid>:...)
    check_value  TEXT NOT NULL
);
