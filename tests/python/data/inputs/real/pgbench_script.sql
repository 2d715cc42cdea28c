\set id random(1, 1000)
BEGIN;
SELECT qty FROM items WHERE id = :id;
UPDATE items SET qty = qty + 1 WHERE id = :id;
SELECT pg_sleep(0.002);
COMMIT;
