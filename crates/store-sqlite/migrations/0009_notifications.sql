-- Whether a type's successful runs notify the organisation.
ALTER TABLE segment_types ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
-- When the server classifies a type again on its own: manual, after_import.
ALTER TABLE segment_types ADD COLUMN recompute TEXT NOT NULL DEFAULT 'manual';

-- What the organisation is told when a run ends: a failed run always, a
-- successful one when a type it classified has `notify`; read per token.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    at TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX notifications_by_org ON notifications (org_id, id);

CREATE TABLE notification_reads (
    org_id INTEGER NOT NULL,
    notification_id INTEGER NOT NULL,
    token_id INTEGER NOT NULL,
    PRIMARY KEY (org_id, notification_id, token_id)
) WITHOUT ROWID;
