-- How long an organisation keeps what grows: the rows of its last
-- `keep_runs` runs per type, and history for `history_days` days (NULL:
-- for ever).
ALTER TABLE orgs ADD COLUMN keep_runs INTEGER NOT NULL DEFAULT 24;
ALTER TABLE orgs ADD COLUMN history_days INTEGER;
-- Whether retention removed a run's rows.
ALTER TABLE runs ADD COLUMN rows_pruned INTEGER NOT NULL DEFAULT 0;
