-- What a run does: 'segment' (its results become the types' current ones),
-- 'period' or 'compare' (one-off: its rows stay with the run and change
-- nothing else), with their date ranges as FROM..TO, comma separated.
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'segment';
ALTER TABLE runs ADD COLUMN periods TEXT;

-- The rows of a one-off run's file (assignments.csv of a period,
-- transitions.csv of a comparison) as the command line writes them, in
-- file order; `key` is the segment or the movement exports filter by.
CREATE TABLE run_rows (
    org_id INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    row INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    key TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (org_id, run_id, row)
) WITHOUT ROWID;
CREATE INDEX run_rows_by_customer ON run_rows (org_id, customer_id);
