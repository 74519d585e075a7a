-- Supabase mode against the real Storage server (issue 9).

-- ---------------------------------------------------------------------------------------------
-- 1. The bucket the policies guard comes from one place. The app keeps it equal to STORAGE_BUCKET
-- (lib/db/bucket.ts, at start); the default is the original guide's 'ai-models'.
create table public.storage_settings (
  id boolean primary key default true check (id),
  bucket text not null default 'ai-models' check (bucket ~ '^[a-z0-9][a-z0-9._-]{1,62}$')
);
alter table public.storage_settings enable row level security;
revoke all on public.storage_settings from anon, authenticated;
insert into public.storage_settings default values on conflict do nothing;

create function public.model_bucket() returns text
language sql stable security definer
set search_path = ''
as $$
  select coalesce((select s.bucket from public.storage_settings s), 'ai-models')
$$;
grant execute on function public.model_bucket() to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- 2. API tokens resolve on Supabase's own auth.users, whose e-mail is varchar(255): the function's
-- declared `text` did not match ("structure of query does not match function result type").
create or replace function public.resolve_api_token(p_hash text)
returns table (token_id uuid, user_id uuid, email text, org_id uuid, role public.org_role)
language plpgsql security definer
set search_path = ''
as $$
begin
  return query
  update public.api_tokens t set last_used_at = now()
  from auth.users u, public.memberships m
  where t.token_hash = p_hash and t.revoked_at is null and (t.expires_at is null or t.expires_at > now())
    and u.id = t.user_id and m.org_id = t.org_id and m.user_id = t.user_id
  returning t.id, t.user_id, u.email::text, t.org_id, t.role;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- 3. A policy name of 67 characters was silently cut to 63: give it one that fits.
alter policy "Members see finished versions; uploaders see their own pending ones" on public.model_versions
  rename to "Members see finished versions; uploaders their own pending ones";

-- ---------------------------------------------------------------------------------------------
-- 4. Who may touch objects in the bucket, as Supabase Storage asks (it checks these policies with
-- the caller's own token for every upload, download, info and delete):
--   * read: members of the organization, for objects that are downloadable to them (quarantined and
--     deleted versions: admins only) — and the uploader, for the object of their own pending
--     reservation (Storage reads it to finish a resumable upload, and deletes through this policy);
--   * write: only the exact key of the caller's own pending, unexpired reservation — never any other
--     key in the organization's folder, and never over an existing object (no update policy, so
--     upsert and overwrite are refused);
--   * delete: admins, or the writer whose object it is.

-- The caller's own pending reservation of this key, still leased (Storage asks while bytes arrive).
create function public.is_own_pending_object(p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.model_versions v
    where v.object_key = p_name and v.status = 'pending' and v.created_by = auth.uid()
      and coalesce(v.lease_until, v.created_at + interval '1 hour') > now()
      and public.has_org_role(v.org_id, 'member')
  )
$$;
revoke execute on function public.is_own_pending_object(text) from public, anon;
grant execute on function public.is_own_pending_object(text) to authenticated;

-- Reading: a member, and the object is downloadable to them — or it is their own upload in progress.
create or replace function public.object_is_downloadable(p_bucket text, p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select public.is_own_pending_object(p_name) or not exists (
    select 1 from public.model_versions v
    where v.object_key = p_name and v.status in ('quarantined', 'pending', 'deleted')
      and not public.has_org_role(v.org_id, 'admin')
  )
$$;

-- The whole read rule in one function: the storage policy calls it for Storage, and the local modes
-- (which have no storage.objects rows of their own) call it before serving bytes, so one rule decides
-- in every mode.
create function public.can_read_model_object(p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select public.is_org_member(public.org_id_for_slug((storage.foldername(p_name))[1]))
    and public.object_is_downloadable(public.model_bucket(), p_name)
$$;
revoke execute on function public.can_read_model_object(text) from public, anon;
grant execute on function public.can_read_model_object(text) to authenticated;

-- The bucket and the policies, in one function so that the migration and the one-time SQL for
-- hosted projects (supabase/storage-policies.sql) install the very same thing. Security invoker:
-- whoever calls it needs the rights (the storage tables' owner, or Supabase's policy grants).
create function public.install_storage_policies() returns void
language plpgsql security invoker
set search_path = ''
as $fn$
begin
  drop policy if exists "Members can read their organization's model files" on storage.objects;
  drop policy if exists "Writers can upload model files to their organization" on storage.objects;
  drop policy if exists "Admins, or the writer who uploaded it, can delete a model file" on storage.objects;
  drop policy if exists "Members read downloadable model files; uploaders their own" on storage.objects;
  drop policy if exists "Writers upload only the key of their own pending reservation" on storage.objects;
  drop policy if exists "Admins, or the writer who uploaded it, delete a model file" on storage.objects;

  create policy "Members read downloadable model files; uploaders their own" on storage.objects
    for select to authenticated
    using (
      bucket_id = (select public.model_bucket())
      and public.can_read_model_object(name)
    );
  create policy "Writers upload only the key of their own pending reservation" on storage.objects
    for insert to authenticated
    with check (
      bucket_id = (select public.model_bucket())
      and public.is_own_pending_object(name)
    );
  -- No update policy: stored model files are never overwritten (Storage's upsert needs one).
  create policy "Admins, or the writer who uploaded it, delete a model file" on storage.objects
    for delete to authenticated
    using (
      bucket_id = (select public.model_bucket())
      and (
        public.has_org_role(public.org_id_for_slug((storage.foldername(name))[1]), 'admin')
        or (owner_id = auth.uid()::text
            and public.has_org_role(public.org_id_for_slug((storage.foldername(name))[1]), 'member'))
      )
    );
end
$fn$;
revoke execute on function public.install_storage_policies() from public, anon, authenticated, service_role;

-- The private bucket: Storage's own row. Where the migrating role may not write it (no BYPASSRLS on
-- a hosted-style database), create it in the dashboard or with supabase/storage-policies.sql.
do $bucket$
begin
  insert into storage.buckets (id, name, public) values (public.model_bucket(), public.model_bucket(), false)
  on conflict (id) do nothing;
exception when insufficient_privilege then
  raise warning 'bucket % not created here (%). Create it private in the dashboard, or run supabase/storage-policies.sql (docs/supabase.md).', public.model_bucket(), sqlerrm;
end
$bucket$;

-- Guarded: where the role running the migrations may not create policies on storage.objects (a
-- hosted-style database without Supabase's policy grants), warn instead of failing; then run
-- supabase/storage-policies.sql once in the project's SQL editor (docs/supabase.md). /api/health
-- reports the policies missing until then.
do $storage$
begin
  perform public.install_storage_policies();
exception when insufficient_privilege then
  raise warning 'storage policies not created here (%). Run supabase/storage-policies.sql in the SQL editor (docs/supabase.md).', sqlerrm;
end
$storage$;

-- What /api/health asks: are the policies this version of the app needs on storage.objects?
create function public.storage_policies_installed() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select count(*) = 3 from pg_catalog.pg_policies
  where schemaname = 'storage' and tablename = 'objects'
    and policyname in (
      'Members read downloadable model files; uploaders their own',
      'Writers upload only the key of their own pending reservation',
      'Admins, or the writer who uploaded it, delete a model file'
    )
$$;
grant execute on function public.storage_policies_installed() to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- 5. The local modes no longer write storage.objects rows (Supabase Storage trusts every row in that
-- table: on a Supabase database, a row written by postgres mode was an object Storage believed it had
-- without bytes — info 200, download 500 ENOENT — and blocked `migrate:cloud`). Remove the rows an
-- earlier version wrote: they carry our metadata ({size, mimetype, sha256}); Storage's own rows carry
-- an eTag and never a sha256. Storage's protect_delete trigger allows it when asked explicitly.
do $rows$
begin
  perform set_config('storage.allow_delete_query', 'true', true);
  delete from storage.objects
  where metadata ? 'sha256' and not metadata ? 'eTag';
  perform set_config('storage.allow_delete_query', 'false', true);
exception when insufficient_privilege then
  raise warning 'rows written by the local modes are left in storage.objects (%); npm run migrate:cloud names them', sqlerrm;
end
$rows$;
