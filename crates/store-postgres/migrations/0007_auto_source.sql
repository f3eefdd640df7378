-- Where a row's automatic segment comes from (computed, default, include),
-- kept beside a manual segment that replaces it: clearing the manual
-- assignment between runs restores the row as the method or a list gave it.
ALTER TABLE result_rows ADD COLUMN auto_source TEXT;
UPDATE result_rows SET auto_source = source WHERE source <> 'manual';
UPDATE result_rows SET auto_source = 'computed' WHERE source = 'manual' AND auto_segment IS NOT NULL;
