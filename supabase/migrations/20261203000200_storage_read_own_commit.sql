-- Supabase mode against the real Storage server, after versions became sets of files (issues 9, 13).
--
-- Completing a commit reads its files back from the store — configs and safetensors headers, to
-- recognise the folder's layout and refuse an inconsistent one (a shard its index names but that is
-- missing, a header that lies). In supabase mode that read goes to Storage with the uploader's own
-- token, and Storage asks the storage.objects SELECT policy. That policy let an uploader read the
-- object of a blob still `pending` (being uploaded), admins anything, members what a ready version
-- holds — but not a blob the uploader's own commit has just STORED while the commit itself is still
-- pending. So for a member (not an admin) every layout read failed with "No such object": the folder
-- was committed with layout `unknown` and none of its consistency checks ran.
--
-- An uploader now also reads the STORED files of their own pending commit (including blobs the
-- organization already stored that the commit points at), whatever its lease: completing may come a
-- while after the last byte.
--
-- And a client writing straight to Storage (the reservations API's `object_key`) lost the right to
-- write its own key mid-upload: Storage checks the INSERT policy during a resumable upload, the policy
-- asked for a live commit lease, and since file sets a commit's lease is 45 seconds, renewed only by
-- our own endpoints — which a direct upload never calls. A 1 GiB direct upload was refused after
-- ~45 s ("new row violates row-level security policy"). The lease guards taking a version number
-- over from a dead upload; it need not guard the key: blob keys are fresh ids, never reused, and a
-- takeover deletes the stale commit's pending blobs, which ends that key's write right at once. So
-- one's own pending blob's key stays writable (and readable, to finish and to clean up) for as long
-- as the blob is pending — never any other key, never over a stored object.

create or replace function public.is_own_pending_object(p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.blobs b join public.model_versions v on v.id = b.upload_version_id
    where b.object_key = p_name and b.status = 'pending' and b.created_by = auth.uid()
      and v.status = 'pending' and v.created_by = auth.uid()
      and public.has_org_role(b.org_id, 'member')
  )
$$;

create function public.is_own_commit_object(p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.blobs b
    join public.version_files f on f.blob_id = b.id
    join public.model_versions v on v.id = f.version_id
    where b.object_key = p_name and b.status = 'stored' and v.status = 'pending' and v.created_by = auth.uid()
      and public.has_org_role(v.org_id, 'member')
  )
$$;
revoke execute on function public.is_own_commit_object(text) from public, anon;
grant execute on function public.is_own_commit_object(text) to authenticated;

-- Reading: one's own upload in progress or pending commit, an admin anything of the organization
-- (quarantined and deleted versions, orphans for the clean-up), a member what a ready version holds.
-- (can_read_model_object, and with it the storage policy and the local modes' check, call this.)
create or replace function public.object_is_downloadable(p_bucket text, p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select public.is_own_pending_object(p_name)
    or public.is_own_commit_object(p_name)
    or public.has_org_role(public.org_id_for_slug((storage.foldername(p_name))[1]), 'admin')
    or exists (
      select 1 from public.blobs b
      join public.version_files f on f.blob_id = b.id
      join public.model_versions v on v.id = f.version_id
      where b.object_key = p_name and v.status = 'ready'
    )
$$;
