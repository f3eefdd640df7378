-- Every change of a customer's effective segments: when, in which type,
-- from which segment to which, what caused it and who asked. An erased
-- customer's entries keep a tombstone in place of its id.
CREATE TABLE history (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    type_name TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    old_segment TEXT COLLATE "C",
    new_segment TEXT COLLATE "C",
    cause TEXT NOT NULL,
    run_id BIGINT,
    actor TEXT NOT NULL
);
CREATE INDEX history_by_customer ON history (org_id, customer_id, id);
CREATE INDEX history_by_type ON history (org_id, type_name, id);

-- Who asked for a run: the actor of the history entries it records.
ALTER TABLE runs ADD COLUMN actor TEXT NOT NULL DEFAULT '';
