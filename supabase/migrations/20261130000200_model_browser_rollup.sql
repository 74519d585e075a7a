-- The model browser shows each model's latest version, its size, scan verdict and uploader without
-- joining model_versions (10k models on one page must stay fast): keep them on models.
alter table public.models
  add column latest_size_bytes bigint,
  add column latest_scan_verdict text,
  add column latest_created_by uuid,
  add column latest_created_at timestamptz;

create index models_org_verdict_idx on public.models (org_id, latest_scan_verdict);
create index models_org_size_idx on public.models (org_id, total_bytes desc, id);
create index models_org_created_idx on public.models (org_id, created_at desc, id);
create index models_org_framework_idx on public.models (org_id, framework);
create index models_org_task_idx on public.models (org_id, task_type);

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
    updated_at = greatest(m.updated_at, coalesce(l.ready_at, m.updated_at))
  from (
    select count(*)::int as n, coalesce(sum(size_bytes), 0)::bigint as bytes
    from public.model_versions v where v.model_id = v_model and v.status in ('ready', 'quarantined')
  ) c
  left join lateral (
    select v.id, v.version, v.ready_at, v.size_bytes, v.scan_verdict, v.created_by, v.created_at
    from public.model_versions v
    where v.model_id = v_model and v.status in ('ready', 'quarantined')
    order by v.created_at desc, v.id desc limit 1
  ) l on true
  where m.id = v_model;
  return null;
end
$$;

drop trigger model_versions_rollup on public.model_versions;
create trigger model_versions_rollup after insert or update of status, scan_verdict or delete on public.model_versions
  for each row execute function public.models_refresh_rollup();

-- Alias history outlives its model, like the audit trail (and a cascading delete would trip its
-- append-only trigger): no foreign key to models.
alter table public.model_alias_history drop constraint model_alias_history_model_id_fkey;
