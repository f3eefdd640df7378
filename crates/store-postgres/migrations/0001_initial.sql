-- Organisations and everything they own. Amounts are integers of 1/10000
-- of the currency unit (the engine's fixed point). Text sorts byte-wise
-- (COLLATE "C"), as in SQLite, so that pages and cursors agree on both
-- backends.

CREATE TABLE orgs (
    id BIGSERIAL PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    settings JSONB NOT NULL DEFAULT '{}',
    data_version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs (id),
    role TEXT COLLATE "C" NOT NULL,
    label TEXT COLLATE "C" NOT NULL,
    hash BYTEA NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE customers (
    org_id BIGINT NOT NULL REFERENCES orgs (id),
    customer_id TEXT COLLATE "C" NOT NULL,
    attributes JSONB NOT NULL DEFAULT '{}',
    -- id, name, e-mail and VAT folded (lower case, no accents) for search.
    search TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, customer_id)
);

CREATE TABLE lines (
    org_id BIGINT NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NOT NULL,
    line BIGINT NOT NULL,
    date DATE NOT NULL,
    amount BIGINT NOT NULL,
    margin BIGINT,
    agency TEXT COLLATE "C",
    brand TEXT COLLATE "C",
    category TEXT COLLATE "C",
    status TEXT COLLATE "C",
    due_date DATE,
    PRIMARY KEY (org_id, customer_id, order_id, line)
);

CREATE TABLE segment_types (
    org_id BIGINT NOT NULL REFERENCES orgs (id),
    name TEXT COLLATE "C" NOT NULL,
    position BIGINT NOT NULL,
    definition JSONB NOT NULL,
    version BIGINT NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE manual_segments (
    org_id BIGINT NOT NULL,
    type_name TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    segment TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, type_name, customer_id, segment)
);

CREATE TABLE runs (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs (id),
    types JSONB NOT NULL,
    as_of DATE NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    error TEXT COLLATE "C",
    report JSONB,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    lease_owner TEXT COLLATE "C",
    lease_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX runs_by_status ON runs (status, id);

-- The latest successful result of each type.
CREATE TABLE type_results (
    org_id BIGINT NOT NULL,
    type_name TEXT COLLATE "C" NOT NULL,
    run_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    data_version BIGINT NOT NULL,
    PRIMARY KEY (org_id, type_name)
);

CREATE TABLE result_rows (
    org_id BIGINT NOT NULL,
    type_name TEXT COLLATE "C" NOT NULL,
    segment TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    auto_segment TEXT COLLATE "C",
    manual_segment TEXT COLLATE "C",
    figures JSONB NOT NULL,
    PRIMARY KEY (org_id, type_name, segment, customer_id)
);
CREATE INDEX result_rows_by_customer ON result_rows (org_id, customer_id);
