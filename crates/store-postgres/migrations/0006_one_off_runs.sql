-- What a run does: 'segment' (its results become the types' current ones),
-- 'period' or 'compare' (one-off: its rows stay with the run and change
-- nothing else), with their date ranges as FROM..TO, comma separated.
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'segment';
ALTER TABLE runs ADD COLUMN periods TEXT;

-- The rows of a one-off run's file (assignments.csv of a period,
-- transitions.csv of a comparison) as the command line writes them, in
-- file order; `key` is the segment or the movement exports filter by.
CREATE TABLE run_rows (
    org_id BIGINT NOT NULL,
    run_id BIGINT NOT NULL,
    row BIGINT NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (org_id, run_id, row)
);
CREATE INDEX run_rows_by_customer ON run_rows (org_id, customer_id);
