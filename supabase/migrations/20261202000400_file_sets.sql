-- A model version is a set of files (issue 13). Until now a version held exactly one file, stored
-- at a key of its own: a Hugging Face folder or an MLflow model did not fit, and the same bytes
-- uploaded as a new version were stored — and billed — again.
--
--   blobs          the organization's stored contents, one row per object in the bucket. A file whose
--                  SHA-256 the organization already stores is not uploaded nor stored again (the
--                  content-addressed part: the lookup is by (org_id, sha256)). New objects live at
--                  <org_slug>/blobs/<xx>/<blob id>, so the first folder is still the organization's and
--                  the storage policies keep working; migrated versions keep their old keys.
--   version_files  the files of a version: a path in the version's folder -> a blob. Immutable once
--                  the version leaves `pending`.
--   model_versions the version (a commit): its totals, its worst scan verdict, its layout, tags and
--                  provenance. `sha256` is the file's for a one-file version and, for several files,
--                  the digest of its file list (sorted "sha256  size  path" lines): one value that
--                  changes when any file does.
--
-- Upload: a commit announces its files (path, size, SHA-256); the server answers which it already
-- stores; the client uploads the others (each resumable); completing the commit makes the version
-- visible in one transaction — all files or none. A blob being uploaded is `pending`, written only by
-- the commit that reserved it (its upload_version_id), under that commit's lease.

-- ---------------------------------------------------------------------------------------------
-- 1. Tables
create table public.blobs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  object_key text not null unique,
  storage_backend text not null default 'local' check (storage_backend in ('local', 'supabase')),
  status text not null default 'pending' check (status in ('pending', 'stored')),
  size_bytes bigint check (size_bytes >= 0),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  -- What the commit announced (checked when the bytes are in; a mismatch stores nothing).
  expected_size bigint check (expected_size >= 0),
  expected_sha256 text check (expected_sha256 ~ '^[0-9a-f]{64}$'),
  -- The name it was first uploaded under: the inspector's hint, and what a resumable upload shows.
  file_name text not null default '' check (char_length(file_name) <= 255),
  -- What the inspector found in these bytes (content, so shared by every file that points here).
  content_type text,
  format text,
  framework text,
  metadata jsonb not null default '{}'::jsonb,
  scan_verdict text not null default 'not_scanned' check (scan_verdict in ('not_scanned', 'safe', 'suspicious', 'dangerous')),
  scan_findings jsonb not null default '[]'::jsonb,
  scanned_at timestamptz,
  -- The commit uploading it (pending), then the one that first stored it.
  upload_version_id uuid references public.model_versions (id) on delete set null,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  stored_at timestamptz,
  -- The last file pointing here went (its model was deleted): retention counts from then.
  released_at timestamptz,
  -- Retention deleted the bytes (no live version referenced them); the row stays for the record.
  purged_at timestamptz,
  check (status = 'pending' or (size_bytes is not null and sha256 is not null)),
  check (purged_at is null or status = 'stored')
);
alter table public.blobs enable row level security;
-- The dedup lookup. Not unique: two commits may store the same bytes at the same moment (both valid;
-- later uploads pick the oldest), and versions migrated from before held duplicates.
create index blobs_org_sha_idx on public.blobs (org_id, sha256, stored_at) where status = 'stored' and purged_at is null;
create index blobs_upload_version_idx on public.blobs (upload_version_id) where status = 'pending';
create index blobs_org_stored_idx on public.blobs (org_id, stored_at);

-- A safe relative path inside a version's folder: segments separated by "/", no empty, "." or ".."
-- segment, no leading "/", no backslash or control character, at most 255 bytes per segment and 1024
-- in all. Used for display, archives and downloads; never as a storage key.
create function public.is_valid_file_path(p text) returns boolean
language sql immutable
set search_path = ''
as $$
  select p is not null and octet_length(p) between 1 and 1024
    and p !~ '[\x01-\x1f\x7f\\]' and p !~ '^/' and p !~ '(^|/)\.{1,2}(/|$)' and p !~ '//' and p !~ '/$'
    and not exists (select 1 from unnest(string_to_array(p, '/')) s where octet_length(s) > 255)
$$;

create table public.version_files (
  version_id uuid not null references public.model_versions (id) on delete cascade,
  path text not null check (public.is_valid_file_path(path)),
  org_id uuid not null references public.organizations (id) on delete cascade,
  blob_id uuid not null references public.blobs (id),
  primary key (version_id, path)
);
alter table public.version_files enable row level security;
create index version_files_blob_idx on public.version_files (blob_id);

-- ---------------------------------------------------------------------------------------------
-- 2. Versions: what a commit adds
alter table public.model_versions
  add column file_count integer not null default 1 check (file_count >= 0),
  -- The layout of the folder (transformers, mlflow, safetensors-sharded, single-file…) and what it says.
  add column layout text,
  add column layout_details jsonb not null default '{}'::jsonb,
  -- Free key-value tags (strings) and provenance (source run URL, git commit, dataset, parent).
  add column tags jsonb not null default '{}'::jsonb check (jsonb_typeof(tags) = 'object'),
  add column provenance jsonb not null default '{}'::jsonb check (jsonb_typeof(provenance) = 'object'),
  add column parent_version_id uuid references public.model_versions (id) on delete set null;
create index model_versions_tags_idx on public.model_versions using gin (tags jsonb_path_ops);
create index model_versions_provenance_idx on public.model_versions using gin (provenance jsonb_path_ops);
create index model_versions_parent_idx on public.model_versions (parent_version_id) where parent_version_id is not null;

-- ---------------------------------------------------------------------------------------------
-- 3. Existing versions become one-file versions: each keeps its object, key and SHA-256.
insert into public.blobs (org_id, object_key, storage_backend, status, size_bytes, sha256, expected_size, expected_sha256,
                          file_name, content_type, format, framework, metadata, scan_verdict, scan_findings, scanned_at,
                          upload_version_id, created_by, created_at, stored_at, purged_at)
select v.org_id, v.object_key, v.storage_backend,
       case when v.status = 'pending' then 'pending' else 'stored' end,
       v.size_bytes, v.sha256, v.expected_size, v.expected_sha256,
       v.file_name, v.content_type, v.format, v.framework, v.metadata, v.scan_verdict, v.scan_findings, v.scanned_at,
       v.id, v.created_by, v.created_at, case when v.status = 'pending' then null else coalesce(v.ready_at, v.created_at) end,
       v.purged_at
from public.model_versions v;

insert into public.version_files (version_id, path, org_id, blob_id)
select v.id,
       -- The name it was uploaded under when that is a valid path, else the key's file name.
       case when public.is_valid_file_path(nullif(v.file_name, '')) then v.file_name else storage.filename(v.object_key) end,
       v.org_id, b.id
from public.model_versions v join public.blobs b on b.object_key = v.object_key;

update public.model_versions v set layout = 'single-file', file_count = 1 where v.status <> 'pending';

-- ---------------------------------------------------------------------------------------------
-- 4. Everything that read model_versions.object_key reads the blobs now; then the column goes.
drop policy "Writers can start an upload" on public.model_versions;
create policy "Writers can start an upload" on public.model_versions
  for insert to authenticated
  with check (public.has_org_role(org_id, 'member') and created_by = auth.uid() and status = 'pending');
drop policy "Writers can finish uploads and retire versions" on public.model_versions;
create policy "Writers can finish uploads and retire versions" on public.model_versions
  for update to authenticated
  using (public.has_org_role(org_id, 'member'))
  with check (public.has_org_role(org_id, 'member'));

create or replace function public.model_versions_guard() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status <> 'pending' and (
       new.version is distinct from old.version or new.file_count is distinct from old.file_count
    or new.size_bytes is distinct from old.size_bytes or new.sha256 is distinct from old.sha256
    or new.model_id is distinct from old.model_id or new.org_id is distinct from old.org_id
    or new.tags is distinct from old.tags or new.provenance is distinct from old.provenance
    or new.parent_version_id is distinct from old.parent_version_id
    or new.created_by is distinct from old.created_by or new.created_at is distinct from old.created_at) then
    raise exception 'model versions are immutable' using errcode = 'P0001';
  end if;
  if old.status = 'deleted' and new.status <> 'deleted' then
    raise exception 'a deleted version cannot be restored' using errcode = 'P0001';
  end if;
  -- Back to pending would make its files writable again (and skip the quarantine release).
  if old.status <> 'pending' and new.status = 'pending' then
    raise exception 'model versions are immutable' using errcode = 'P0001';
  end if;
  if new.status <> 'pending' and old.status = 'pending' then
    new.ready_at := now();
  end if;
  if new.status = 'deleted' and old.status <> 'deleted' then
    -- Retiring a version: admins, or the writer who uploaded it.
    if current_user = 'authenticated' and not (
      public.has_org_role(old.org_id, 'admin')
      or (old.created_by = auth.uid() and public.has_org_role(old.org_id, 'member'))
    ) then
      raise exception 'only an admin or the uploader can delete a version' using errcode = '42501';
    end if;
    new.deleted_at := now();
    new.deleted_by := auth.uid();
  end if;
  -- Lifting a quarantine is an admin decision.
  if old.status = 'quarantined' and new.status = 'ready' and current_user = 'authenticated'
     and not public.has_org_role(old.org_id, 'admin') then
    raise exception 'only an admin can release a quarantined version' using errcode = '42501';
  end if;
  return new;
end
$$;

-- A pending version whose lease ran out gives its number to a new commit. Its pending blobs go with
-- it (their keys are returned so the caller removes their bytes); blobs it already stored stay (no
-- version references them: the retention sweep collects them, unless a retry reuses them first).
drop function public.release_stale_reservation(uuid, text);
create function public.release_stale_reservation(p_model uuid, p_version text)
returns table (id uuid, org_id uuid, object_key text, storage_backend text, created_by uuid)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_org uuid;
  v_by uuid;
begin
  delete from public.model_versions v
  where v.model_id = p_model and v.version = p_version and v.status = 'pending'
    and coalesce(v.lease_until, v.created_at + interval '1 hour') < now()
    and public.has_org_role(v.org_id, 'member')
  returning v.id, v.org_id, v.created_by into v_id, v_org, v_by;
  if v_id is null then
    return;
  end if;
  return query
  delete from public.blobs b
  where b.status = 'pending' and (b.upload_version_id = v_id or (b.upload_version_id is null and b.created_by = v_by and b.org_id = v_org
    and not exists (select 1 from public.version_files f where f.blob_id = b.id)))
  returning v_id, b.org_id, b.object_key, b.storage_backend, b.created_by;
  -- A commit that had reserved no blob of its own still reports itself, so the caller knows.
  if not found then
    return query select v_id, v_org, null::text, null::text, v_by;
  end if;
end
$$;
revoke execute on function public.release_stale_reservation(uuid, text) from public, anon;
grant execute on function public.release_stale_reservation(uuid, text) to authenticated;

alter table public.model_versions drop column object_key;
alter table public.model_versions drop column expected_size;
alter table public.model_versions drop column expected_sha256;

-- ---------------------------------------------------------------------------------------------
-- 5. Who may touch blobs and version files
-- Stored blobs are the organization's (members see them: sizes, hashes, scan results); pending ones
-- only their uploader. Blobs are created pending by a writer of the organization, under its folder.
-- Only the app's server stores them (after it verified the bytes), as with finishing a version.
create policy "Members see stored blobs; uploaders their own pending ones" on public.blobs
  for select to authenticated
  using (org_id in (select public.member_org_ids()) and (status = 'stored' or created_by = (select auth.uid())));
create policy "Writers reserve blobs under their organization's folder" on public.blobs
  for insert to authenticated
  with check (public.has_org_role(org_id, 'member') and created_by = auth.uid() and status = 'pending'
    and public.org_id_for_slug((storage.foldername(object_key))[1]) = org_id);
create policy "Uploaders store their own pending blobs" on public.blobs
  for update to authenticated
  using (created_by = auth.uid() and status = 'pending' and public.has_org_role(org_id, 'member'))
  with check (created_by = auth.uid() and public.has_org_role(org_id, 'member')
    and public.org_id_for_slug((storage.foldername(object_key))[1]) = org_id);
create policy "Uploaders drop their own pending blobs" on public.blobs
  for delete to authenticated
  using (created_by = auth.uid() and status = 'pending' and public.has_org_role(org_id, 'member'));

create function public.blobs_guard() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status = 'stored' and (
       new.object_key is distinct from old.object_key or new.size_bytes is distinct from old.size_bytes
    or new.sha256 is distinct from old.sha256 or new.org_id is distinct from old.org_id or new.status <> 'stored') then
    raise exception 'stored blobs are immutable' using errcode = 'P0001';
  end if;
  if old.status = 'pending' and new.status = 'stored' then
    if current_user = 'authenticated' and not public.via_app_server() then
      raise exception 'blobs are stored by the server after it verified the bytes' using errcode = '42501';
    end if;
    new.stored_at := now();
  end if;
  if (new.purged_at is distinct from old.purged_at or new.released_at is distinct from old.released_at)
     and current_user in ('authenticated', 'anon') then
    raise exception 'only the retention job marks blobs purged' using errcode = '42501';
  end if;
  return new;
end
$$;
create trigger blobs_guard before update on public.blobs for each row execute function public.blobs_guard();

create policy "Members see the files of the versions they see" on public.version_files
  for select to authenticated
  using (org_id in (select public.member_org_ids())
    and exists (select 1 from public.model_versions v where v.id = version_id));
create policy "Uploaders list files in their own pending version" on public.version_files
  for insert to authenticated
  with check (public.has_org_role(org_id, 'member')
    and exists (select 1 from public.model_versions v
                where v.id = version_id and v.status = 'pending' and v.created_by = auth.uid() and v.org_id = version_files.org_id)
    and exists (select 1 from public.blobs b where b.id = blob_id and b.org_id = version_files.org_id
                and (b.status = 'stored' or b.created_by = auth.uid())));
create policy "Uploaders change files of their own pending version" on public.version_files
  for update to authenticated
  using (exists (select 1 from public.model_versions v where v.id = version_id and v.status = 'pending' and v.created_by = auth.uid()))
  with check (public.has_org_role(org_id, 'member')
    and exists (select 1 from public.model_versions v
                where v.id = version_id and v.status = 'pending' and v.created_by = auth.uid() and v.org_id = version_files.org_id)
    and exists (select 1 from public.blobs b where b.id = blob_id and b.org_id = version_files.org_id
                and (b.status = 'stored' or b.created_by = auth.uid())));
create policy "Uploaders drop files of their own pending version" on public.version_files
  for delete to authenticated
  using (exists (select 1 from public.model_versions v where v.id = version_id and v.status = 'pending' and v.created_by = auth.uid()));

-- A version's file list is fixed once it leaves pending (cascading deletes of whole versions aside).
create function public.version_files_guard() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_status text;
begin
  -- Cascades (a version, model or organization deleted) remove files with it: depth > 1 is the
  -- referential action's own statement, never a user's.
  if tg_op = 'DELETE' and pg_trigger_depth() > 1 then
    return old;
  end if;
  select v.status into v_status from public.model_versions v where v.id = coalesce(old.version_id, new.version_id);
  if v_status is not null and v_status <> 'pending' then
    raise exception 'the files of a version are immutable' using errcode = 'P0001';
  end if;
  return coalesce(new, old);
end
$$;
create trigger version_files_guard before insert or update or delete on public.version_files
  for each row execute function public.version_files_guard();

grant select, insert, update, delete on public.blobs, public.version_files to authenticated;

-- ---------------------------------------------------------------------------------------------
-- 6. The storage policies ask the blobs now (same function names: the policies stay as they are).
-- Writing: only the key of a pending blob of one's own, reserved by one's own pending, leased commit.
create or replace function public.is_own_pending_object(p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.blobs b join public.model_versions v on v.id = b.upload_version_id
    where b.object_key = p_name and b.status = 'pending' and b.created_by = auth.uid()
      and v.status = 'pending' and v.created_by = auth.uid()
      and coalesce(v.lease_until, v.created_at + interval '1 hour') > now()
      and public.has_org_role(b.org_id, 'member')
  )
$$;

-- Reading: a member, for an object some ready version of theirs holds — admins any object of their
-- organization (quarantined and deleted versions, orphans for the clean-up) — or one's own upload in
-- progress.
create or replace function public.object_is_downloadable(p_bucket text, p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select public.is_own_pending_object(p_name)
    or public.has_org_role(public.org_id_for_slug((storage.foldername(p_name))[1]), 'admin')
    or exists (
      select 1 from public.blobs b
      join public.version_files f on f.blob_id = b.id
      join public.model_versions v on v.id = f.version_id
      where b.object_key = p_name and v.status = 'ready'
    )
$$;

-- ---------------------------------------------------------------------------------------------
-- 7. When the last file pointing at a blob goes (its model was deleted), the blob records it: the
-- retention purge keeps unreferenced bytes for RETENTION_DAYS from then, like a deleted version's.
create function public.version_files_release_blob() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.blobs b set released_at = now()
  where b.id = old.blob_id and not exists (select 1 from public.version_files f where f.blob_id = old.blob_id);
  return null;
end
$$;
create trigger version_files_release_blob after delete on public.version_files
  for each row execute function public.version_files_release_blob();

-- ---------------------------------------------------------------------------------------------
-- 8. Resumable uploads of commit files in supabase mode: our tus endpoint streams each chunk through
-- to Storage's own resumable upload (the bytes reach Storage once, hashed and inspected on the way).
-- Any app server can continue an upload: which Storage upload an id of ours is, lives here.
create table public.resumable_uploads (
  id text primary key check (id ~ '^[0-9a-f]{32}$'),
  user_id uuid not null references auth.users (id) on delete cascade,
  version_id uuid not null references public.model_versions (id) on delete cascade,
  blob_id uuid not null references public.blobs (id) on delete cascade,
  path text not null check (public.is_valid_file_path(path)),
  size_bytes bigint not null check (size_bytes >= 0),
  storage_url text not null check (storage_url ~ '^https?://'),
  -- Started with org/model/version metadata: finishing it completes its one-file version too.
  one_file boolean not null default false,
  created_at timestamptz not null default now()
);
alter table public.resumable_uploads enable row level security;
create policy "Uploaders see their own resumable uploads" on public.resumable_uploads
  for select to authenticated using (user_id = auth.uid());
create policy "Uploaders start resumable uploads of their own pending blobs" on public.resumable_uploads
  for insert to authenticated
  with check (user_id = auth.uid() and exists (
    select 1 from public.blobs b join public.model_versions v on v.id = b.upload_version_id
    where b.id = blob_id and b.status = 'pending' and b.created_by = auth.uid() and v.id = version_id and v.created_by = auth.uid()));
create policy "Uploaders end their own resumable uploads" on public.resumable_uploads
  for delete to authenticated using (user_id = auth.uid());
grant select, insert, delete on public.resumable_uploads to authenticated;

-- ---------------------------------------------------------------------------------------------
-- 9. Search finds models by their latest version's tags, provenance and layout too ("dataset
-- churn-2026", a git commit, "transformers").
create or replace function public.models_refresh_rollup() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_model uuid := coalesce(new.model_id, old.model_id);
begin
  update public.models m set
    latest_version_id = l.id,
    latest_version = l.version,
    latest_size_bytes = l.size_bytes,
    latest_scan_verdict = l.scan_verdict,
    latest_created_by = l.created_by,
    latest_created_at = l.created_at,
    version_count = c.n,
    total_bytes = c.bytes,
    search_extra = left(concat_ws(' ', l.format, l.framework, l.layout, (
      select string_agg(e.value, ' ') from jsonb_each_text(coalesce(l.metadata, '{}'::jsonb)) e
      where jsonb_typeof(l.metadata -> e.key) = 'string' and length(e.value) <= 200
    ), (
      select string_agg(t.key || ' ' || t.value, ' ') from jsonb_each_text(coalesce(l.tags, '{}'::jsonb)) t
    ), (
      select string_agg(p.value, ' ') from jsonb_each_text(coalesce(l.provenance, '{}'::jsonb)) p
      where jsonb_typeof(l.provenance -> p.key) = 'string' and length(p.value) <= 500
    )), 2000),
    updated_at = greatest(m.updated_at, coalesce(l.ready_at, m.updated_at))
  from (
    select count(*)::int as n, coalesce(sum(size_bytes), 0)::bigint as bytes
    from public.model_versions v where v.model_id = v_model and v.status in ('ready', 'quarantined')
  ) c
  left join lateral (
    select v.id, v.version, v.ready_at, v.size_bytes, v.scan_verdict, v.created_by, v.created_at, v.format, v.framework,
           v.metadata, v.layout, v.tags, v.provenance
    from public.model_versions v
    where v.model_id = v_model and v.status in ('ready', 'quarantined')
    order by v.created_at desc, v.id desc limit 1
  ) l on true
  where m.id = v_model;
  return null;
end
$$;
