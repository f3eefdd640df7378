-- A counter of each organisation's definitions (settings and segment
-- types), kept by triggers so that no write can forget it: the server
-- caches a validated configuration per organisation and version.
ALTER TABLE orgs ADD COLUMN config_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'orgs' THEN
        NEW.config_version := OLD.config_version + 1;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        UPDATE orgs SET config_version = config_version + 1 WHERE id = OLD.org_id;
    ELSE
        UPDATE orgs SET config_version = config_version + 1 WHERE id = NEW.org_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER segment_types_changed AFTER INSERT OR UPDATE OR DELETE ON segment_types
    FOR EACH ROW EXECUTE FUNCTION bump_config_version();
CREATE TRIGGER settings_changed BEFORE UPDATE OF settings ON orgs
    FOR EACH ROW EXECUTE FUNCTION bump_config_version();

-- A customer's detail reads its rows of every type and its manual
-- segments by customer, in (type, segment) order.
DROP INDEX result_rows_by_customer;
CREATE INDEX result_rows_by_customer ON result_rows (org_id, customer_id, type_name, segment);
CREATE INDEX manual_segments_by_customer ON manual_segments (org_id, customer_id, type_name, segment);
