-- The agencies' due-date counts (procedure_id = '') in an index that holds all a report reads of
-- them (a covering index: SQLite reads the index alone).
CREATE INDEX dossier_due_agency_level ON dossier_due (due_date, agency_id, procedure_id, n)
  WHERE procedure_id = '';
