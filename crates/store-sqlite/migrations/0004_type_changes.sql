-- Every change of a segment type's definition: who, when, what it was and
-- what it became (the JSON form GET returns; none before a creation or
-- after a deletion). A renamed type's entries follow it to its new name.
CREATE TABLE type_changes (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    type_name TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX type_changes_by_type ON type_changes (org_id, type_name, id);
