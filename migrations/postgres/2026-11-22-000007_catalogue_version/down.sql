DROP TRIGGER holidays_bump ON holidays;
DROP TRIGGER fields_bump ON fields;
DROP TRIGGER agencies_bump ON agencies;
DROP TRIGGER procedure_agencies_bump ON procedure_agencies;
DROP TRIGGER procedures_bump ON procedures;
DROP FUNCTION catalogue_bump();
DROP TABLE catalogue_version;
