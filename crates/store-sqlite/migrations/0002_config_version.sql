-- A counter of each organisation's definitions (settings and segment
-- types), kept by triggers so that no write can forget it: the server
-- caches a validated configuration per organisation and version.
ALTER TABLE orgs ADD COLUMN config_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER segment_types_inserted AFTER INSERT ON segment_types BEGIN
    UPDATE orgs SET config_version = config_version + 1 WHERE id = NEW.org_id;
END;
CREATE TRIGGER segment_types_updated AFTER UPDATE ON segment_types BEGIN
    UPDATE orgs SET config_version = config_version + 1 WHERE id = NEW.org_id;
END;
CREATE TRIGGER segment_types_deleted AFTER DELETE ON segment_types BEGIN
    UPDATE orgs SET config_version = config_version + 1 WHERE id = OLD.org_id;
END;
CREATE TRIGGER settings_updated AFTER UPDATE OF settings ON orgs BEGIN
    UPDATE orgs SET config_version = config_version + 1 WHERE id = NEW.id;
END;

-- A customer's detail reads its rows of every type and its manual
-- segments by customer, in (type, segment) order: without these indexes
-- it scanned every row of the organisation.
DROP INDEX result_rows_by_customer;
CREATE INDEX result_rows_by_customer ON result_rows (org_id, customer_id, type_name, segment);
CREATE INDEX manual_segments_by_customer ON manual_segments (org_id, customer_id, type_name, segment);
