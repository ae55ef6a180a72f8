-- One person, one record (issue 10): a companion (同行人员) who later reports for himself gets
-- his own report, and his companion entry points to it instead of standing as a second,
-- unlinked record of the same ID number.
ALTER TABLE persons ADD COLUMN self_report_id INTEGER REFERENCES reports(id);
CREATE INDEX persons_self_report ON persons(self_report_id);
