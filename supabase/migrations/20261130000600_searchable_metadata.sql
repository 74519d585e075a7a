-- What the inspector extracted is searchable from the model browser: the latest version's format,
-- framework and the short text values of its metadata (top-level class, architecture, objective,
-- provider, base model, producer…) join the model's search document.
alter table public.models add column search_extra text not null default '';

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
    search_extra = left(concat_ws(' ', l.format, l.framework, (
      select string_agg(e.value, ' ') from jsonb_each_text(coalesce(l.metadata, '{}'::jsonb)) e
      where jsonb_typeof(l.metadata -> e.key) = 'string' and length(e.value) <= 200
    )), 2000),
    updated_at = greatest(m.updated_at, coalesce(l.ready_at, m.updated_at))
  from (
    select count(*)::int as n, coalesce(sum(size_bytes), 0)::bigint as bytes
    from public.model_versions v where v.model_id = v_model and v.status in ('ready', 'quarantined')
  ) c
  left join lateral (
    select v.id, v.version, v.ready_at, v.size_bytes, v.scan_verdict, v.created_by, v.created_at, v.format, v.framework, v.metadata
    from public.model_versions v
    where v.model_id = v_model and v.status in ('ready', 'quarantined')
    order by v.created_at desc, v.id desc limit 1
  ) l on true
  where m.id = v_model;
  return null;
end
$$;

create or replace function public.models_set_search() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.search := to_tsvector('simple',
    coalesce(new.slug, '') || ' ' || replace(coalesce(new.slug, ''), '_', ' ') || ' ' || coalesce(new.name, '') || ' ' ||
    coalesce(new.framework, '') || ' ' || coalesce(new.description, '') || ' ' || array_to_string(new.tags, ' ') || ' ' ||
    regexp_replace(coalesce(new.search_extra, ''), '[._/-]', ' ', 'g'));
  if tg_op = 'UPDATE' then
    new.updated_at := greatest(new.updated_at, now());
  end if;
  return new;
end
$$;

drop trigger models_search on public.models;
create trigger models_search before insert or update of slug, name, framework, description, tags, search_extra on public.models
  for each row execute function public.models_set_search();
