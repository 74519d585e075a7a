-- Retention (lib/ops/retention.ts, `npm run purge`): once a soft-deleted version's retention period
-- is over its bytes are deleted, but its row stays as a tombstone (the audit trail, alias history
-- and "who deleted what" keep pointing at something, and the version number is never reused).
-- purged_at records when the bytes went. Only the admin tools may set it: not a signed-in user, not
-- the Data API (a user marking a version purged would leave its bytes behind forever).
alter table public.model_versions add column purged_at timestamptz;
alter table public.model_versions
  add constraint model_versions_purged_only_when_deleted check (purged_at is null or status = 'deleted');

-- The purge's candidates: deleted, not yet purged, oldest first.
create index model_versions_retention_idx on public.model_versions (deleted_at)
  where status = 'deleted' and purged_at is null;

create function public.model_versions_purge_guard() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.purged_at is distinct from old.purged_at then
    if current_user in ('authenticated', 'anon') then
      raise exception 'only the retention job marks versions purged' using errcode = '42501';
    end if;
    if old.purged_at is not null then
      raise exception 'a purged version stays purged' using errcode = 'P0001';
    end if;
  end if;
  return new;
end
$$;
create trigger model_versions_purge_guard before update on public.model_versions
  for each row execute function public.model_versions_purge_guard();
