-- Public tracking now runs its query as a statement each connection prepares once
-- (persistence::prepared), which keeps the plan without a function.
DROP FUNCTION dossier_tracking(text);
