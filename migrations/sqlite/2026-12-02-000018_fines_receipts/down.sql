DROP TABLE receipt_counters;
DROP TABLE receipts;
DROP TABLE fine_payments;
DROP TABLE fines;
