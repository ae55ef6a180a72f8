-- The registers (台账) the leaders export (storage/registers.py): the audit log and the
-- door-to-door visits read by time for the whole town, and how each arrival report came in
-- (登记方式: at a door visit, or checking a tip) looked up per report. Without these an export
-- sorts or scans a whole table once per row.
CREATE INDEX audit_at ON audit(at);
CREATE INDEX visits_at ON visits(at);
CREATE INDEX visit_reports_report ON visit_reports(report_id);
CREATE INDEX tip_actions_report ON tip_actions(report_id) WHERE report_id IS NOT NULL;
