-- Organisations and everything they own. Amounts are integers of 1/10000
-- of the currency unit (the engine's fixed point); dates are ISO 8601 text;
-- timestamps are RFC 3339 text in UTC.

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    settings TEXT NOT NULL DEFAULT '{}',
    data_version INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE customers (
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    customer_id TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    -- id, name, e-mail and VAT folded (lower case, no accents) for search.
    search TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, customer_id)
) WITHOUT ROWID;

CREATE TABLE lines (
    org_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    date TEXT NOT NULL,
    amount INTEGER NOT NULL,
    margin INTEGER,
    agency TEXT,
    brand TEXT,
    category TEXT,
    status TEXT,
    due_date TEXT,
    PRIMARY KEY (org_id, customer_id, order_id, line)
) WITHOUT ROWID;

CREATE TABLE segment_types (
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    definition TEXT NOT NULL,
    version INTEGER NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE manual_segments (
    org_id INTEGER NOT NULL,
    type_name TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    segment TEXT NOT NULL,
    PRIMARY KEY (org_id, type_name, customer_id, segment)
) WITHOUT ROWID;

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    types TEXT NOT NULL,
    as_of TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    error TEXT,
    report TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX runs_by_status ON runs (status, id);

-- The latest successful result of each type.
CREATE TABLE type_results (
    org_id INTEGER NOT NULL,
    type_name TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data_version INTEGER NOT NULL,
    PRIMARY KEY (org_id, type_name)
);

CREATE TABLE result_rows (
    org_id INTEGER NOT NULL,
    type_name TEXT NOT NULL,
    segment TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    source TEXT NOT NULL,
    auto_segment TEXT,
    manual_segment TEXT,
    figures TEXT NOT NULL,
    PRIMARY KEY (org_id, type_name, segment, customer_id)
) WITHOUT ROWID;
CREATE INDEX result_rows_by_customer ON result_rows (org_id, customer_id);
