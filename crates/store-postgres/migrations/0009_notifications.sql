-- Whether a type's successful runs notify the organisation.
ALTER TABLE segment_types ADD COLUMN notify BOOLEAN NOT NULL DEFAULT false;
-- When the server classifies a type again on its own: manual, after_import.
ALTER TABLE segment_types ADD COLUMN recompute TEXT NOT NULL DEFAULT 'manual';

-- What the organisation is told when a run ends: a failed run always, a
-- successful one when a type it classified has `notify`; read per token.
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs (id),
    at TIMESTAMPTZ NOT NULL,
    run_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    body JSONB NOT NULL
);
CREATE INDEX notifications_by_org ON notifications (org_id, id);

CREATE TABLE notification_reads (
    org_id BIGINT NOT NULL,
    notification_id BIGINT NOT NULL,
    token_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, notification_id, token_id)
);
