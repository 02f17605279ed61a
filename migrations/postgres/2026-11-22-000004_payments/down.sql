DROP TABLE idempotency_keys;
DROP TABLE payment_callbacks;
DROP TABLE payments;
