-- The inbox indexes (`dossiers_inbox`, `dossiers_all_inbox`) keep the dossiers without a due date
-- together, in submission order: a page of them is read from there when its statement orders by
-- due date first (that of `dossier_lists::after`). The two indexes kept for those rows alone cost
-- every submission two more index entries.
DROP INDEX dossiers_all_inbox_undated;
DROP INDEX dossiers_inbox_undated;
