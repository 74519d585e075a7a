-- The audit trail lists events newest first by (created_at, id). created_at defaulted to now(), the
-- start of the transaction, so of two concurrent alias moves serialised by the alias lock, the one
-- whose transaction began first was listed first even when it took the lock — and moved — second:
-- the trail then read as a broken chain (soak: 8 breaks in 20 concurrent moves). Record the moment
-- the event is written, in the same order as its identity.
alter table public.audit_events alter column created_at set default clock_timestamp();
