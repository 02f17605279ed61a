-- The agencies' due-date counts (procedure_id = '') in an index that holds all a report reads of
-- them: a yearly report sums them by an index-only scan instead of visiting a heap page for
-- nearly every row (the agencies' rows lie among the procedures' rows).
CREATE INDEX dossier_due_agency_level ON dossier_due (due_date, agency_id) INCLUDE (procedure_id, n)
  WHERE procedure_id = '';
