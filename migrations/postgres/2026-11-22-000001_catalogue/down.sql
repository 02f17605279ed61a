DROP TABLE accounts;
DROP TABLE procedure_agencies;
DROP TABLE procedures;
DROP TABLE agencies;
DROP TABLE fields;
DROP TABLE admin_units;
