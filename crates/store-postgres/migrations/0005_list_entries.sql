-- Static members of rules segments, kept beside the definitions (a PUT of
-- a type never overwrites them): customer ids or e-mails on a segment's
-- include or exclude list, added to the lists the definition holds.
CREATE TABLE list_entries (
    org_id BIGINT NOT NULL,
    type_name TEXT COLLATE "C" NOT NULL,
    segment TEXT COLLATE "C" NOT NULL,
    list TEXT NOT NULL,
    entry TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, type_name, segment, list, entry)
);
