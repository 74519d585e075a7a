-- FairMind Model Storage: the private bucket and the storage.objects policies, once, by hand.
--
-- `supabase db push` installs them itself where the role it runs as may create policies on
-- storage.objects (hosted Supabase projects allow `postgres` to). Where it may not — the push then
-- warns "storage policies not created here" and /api/health answers 503 "storage policies are
-- missing" — paste this file into the project's SQL editor (Dashboard → SQL Editor), or run it with
-- psql as the owner of storage.objects:
--
--   psql "$SUPABASE_DB_URL" -v ON_ERROR_STOP=1 -f supabase/storage-policies.sql
--
-- It is safe to run again: it replaces the policies with the ones the app's current schema defines
-- (public.install_storage_policies(), from the migrations), and never touches a stored object.
insert into storage.buckets (id, name, public)
values (public.model_bucket(), public.model_bucket(), false)
on conflict (id) do nothing;

select public.install_storage_policies();

-- Should say true.
select public.storage_policies_installed() as storage_policies_installed;
