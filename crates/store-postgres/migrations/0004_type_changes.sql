-- Every change of a segment type's definition: who, when, what it was and
-- what it became (the JSON form GET returns; none before a creation or
-- after a deletion). A renamed type's entries follow it to its new name.
CREATE TABLE type_changes (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    type_name TEXT COLLATE "C" NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    before JSONB,
    after JSONB
);
CREATE INDEX type_changes_by_type ON type_changes (org_id, type_name, id);
