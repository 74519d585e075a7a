-- An upload that creates a model and then fails (or is cancelled) must not leave an empty model
-- behind ("nothing half-visible"): its uploader may delete the model they created, as long as it
-- holds no version at all — counting other users' pending uploads, which RLS hides from the caller.
create function public.model_is_empty(p_model uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select not exists (select 1 from public.model_versions v where v.model_id = p_model)
$$;
revoke execute on function public.model_is_empty(uuid) from public, anon;
grant execute on function public.model_is_empty(uuid) to authenticated;

create policy "Writers can delete an empty model they created" on public.models
  for delete to authenticated
  using (
    created_by = (select auth.uid())
    and public.has_org_role(org_id, 'member')
    and public.model_is_empty(id)
  );
