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
-- while after the last byte. Bytes still being uploaded stay as they were (readable to their uploader
-- only under a live lease: public.is_own_pending_object), and so does writing: only the key of one's
-- own pending blob.

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
