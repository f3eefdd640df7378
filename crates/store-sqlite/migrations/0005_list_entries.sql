-- Static members of rules segments, kept beside the definitions (a PUT of
-- a type never overwrites them): customer ids or e-mails on a segment's
-- include or exclude list, added to the lists the definition holds.
CREATE TABLE list_entries (
    org_id INTEGER NOT NULL,
    type_name TEXT NOT NULL,
    segment TEXT NOT NULL,
    list TEXT NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (org_id, type_name, segment, list, entry)
) WITHOUT ROWID;
