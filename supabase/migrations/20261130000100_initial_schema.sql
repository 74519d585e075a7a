-- FairMind Model Storage: the schema, once, for every mode (Postgres 15 SQL).
-- Applied by `supabase db push` to a Supabase project and by lib/db/migrate.ts locally (after
-- supabase/local/shim.sql). RLS is enabled right after each table: the policies are the authority.


create type public.org_role as enum ('owner', 'admin', 'member', 'viewer');

-- ---------------------------------------------------------------------------------------------
-- organizations
create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9_-]{1,62}$'),
  name text not null check (char_length(name) between 1 and 200),
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now()
);
alter table public.organizations enable row level security;

-- memberships: a user may belong to several organizations.
create table public.memberships (
  org_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.org_role not null,
  created_at timestamptz not null default now(),
  primary key (org_id, user_id)
);
alter table public.memberships enable row level security;
create index memberships_user_idx on public.memberships (user_id);

-- profiles: the e-mail and name other members of your organizations may see (auth.users is private).
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text not null,
  display_name text,
  created_at timestamptz not null default now()
);
alter table public.profiles enable row level security;

-- ---------------------------------------------------------------------------------------------
-- Access helpers. SECURITY DEFINER so policies can consult memberships without recursing into
-- memberships' own policies. API tokens narrow the caller: the `fm_token` claim (set by the server
-- after it resolved a token) caps the role and pins the organization.
create function public.role_rank(r public.org_role) returns integer
language sql immutable
set search_path = ''
as $$
  select case r when 'owner' then 4 when 'admin' then 3 when 'member' then 2 when 'viewer' then 1 else 0 end
$$;

create function public.current_org_role(p_org uuid) returns public.org_role
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_role public.org_role;
  v_token jsonb := auth.jwt() -> 'fm_token';
  v_token_role public.org_role;
begin
  if p_org is null or auth.uid() is null then
    return null;
  end if;
  select m.role into v_role from public.memberships m where m.org_id = p_org and m.user_id = auth.uid();
  if v_role is null then
    return null;
  end if;
  if v_token is not null then
    if (v_token ->> 'org_id') is distinct from p_org::text then
      return null;
    end if;
    v_token_role := (v_token ->> 'role')::public.org_role;
    if public.role_rank(v_token_role) < public.role_rank(v_role) then
      v_role := v_token_role;
    end if;
  end if;
  return v_role;
end
$$;

create function public.is_org_member(p_org uuid) returns boolean
language sql stable
set search_path = ''
as $$
  select public.current_org_role(p_org) is not null
$$;

create function public.has_org_role(p_org uuid, p_min public.org_role) returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce(public.role_rank(public.current_org_role(p_org)) >= public.role_rank(p_min), false)
$$;

create function public.org_id_for_slug(p_slug text) returns uuid
language sql stable security definer
set search_path = ''
as $$
  select o.id from public.organizations o where o.slug = p_slug
$$;

create function public.shares_org_with(p_user uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1
    from public.memberships mine
    join public.memberships theirs on theirs.org_id = mine.org_id
    where mine.user_id = auth.uid() and theirs.user_id = p_user
      and public.is_org_member(mine.org_id)
  )
$$;

-- ---------------------------------------------------------------------------------------------
-- models
create table public.models (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  slug text not null check (slug ~ '^[a-z0-9][a-z0-9_-]{0,99}$'),
  name text not null check (char_length(name) between 1 and 200),
  task_type text not null default 'other'
    check (task_type in ('classification', 'regression', 'clustering', 'time_series', 'nlp', 'llm', 'other')),
  framework text check (framework is null or char_length(framework) <= 64),
  description text not null default '' check (char_length(description) <= 10000),
  tags text[] not null default '{}' check (cardinality(tags) <= 32),
  -- Maintained by triggers on model_versions: the browser lists 10k models without joins.
  latest_version_id uuid,
  latest_version text,
  version_count integer not null default 0,
  total_bytes bigint not null default 0,
  search tsvector,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (org_id, slug),
  unique (id, org_id)
);
alter table public.models enable row level security;
create index models_org_updated_idx on public.models (org_id, updated_at desc, id);
create index models_org_name_idx on public.models (org_id, name, id);
create index models_search_idx on public.models using gin (search);
create index models_tags_idx on public.models using gin (tags);

-- model_versions: immutable once written; a new upload is a new version.
create table public.model_versions (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  model_id uuid not null,
  version text not null check (version ~ '^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){0,2}(-[0-9A-Za-z.-]+)?$' and char_length(version) <= 64),
  object_key text not null unique,
  storage_backend text not null default 'local' check (storage_backend in ('local', 'supabase')),
  file_name text not null default '' check (char_length(file_name) <= 255),
  size_bytes bigint check (size_bytes >= 0),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  content_type text,
  format text,
  framework text,
  metadata jsonb not null default '{}'::jsonb,
  scan_verdict text not null default 'not_scanned'
    check (scan_verdict in ('not_scanned', 'safe', 'suspicious', 'dangerous')),
  scan_findings jsonb not null default '[]'::jsonb,
  scanned_at timestamptz,
  status text not null default 'pending' check (status in ('pending', 'ready', 'quarantined', 'deleted')),
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  ready_at timestamptz,
  deleted_at timestamptz,
  deleted_by uuid references auth.users (id) on delete set null,
  unique (model_id, version),
  unique (id, model_id),
  foreign key (model_id, org_id) references public.models (id, org_id) on delete cascade,
  check (status = 'pending' or (size_bytes is not null and sha256 is not null))
);
alter table public.model_versions enable row level security;
create index model_versions_model_created_idx on public.model_versions (model_id, created_at desc);
create index model_versions_org_status_idx on public.model_versions (org_id, status);
create index model_versions_pending_idx on public.model_versions (created_at) where status = 'pending';

alter table public.models
  add constraint models_latest_version_fk foreign key (latest_version_id) references public.model_versions (id) on delete set null;

-- model_aliases: production / staging / … point at one version of the same model.
create table public.model_aliases (
  model_id uuid not null references public.models (id) on delete cascade,
  alias text not null check (alias ~ '^[a-z][a-z0-9_-]{0,39}$'),
  org_id uuid not null references public.organizations (id) on delete cascade,
  version_id uuid not null,
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now(),
  primary key (model_id, alias),
  foreign key (version_id, model_id) references public.model_versions (id, model_id) on delete cascade
);
alter table public.model_aliases enable row level security;

-- Every alias move, kept forever (written by a trigger; nobody writes it directly).
create table public.model_alias_history (
  id bigint generated always as identity primary key,
  model_id uuid not null references public.models (id) on delete cascade,
  org_id uuid not null,
  alias text not null,
  from_version_id uuid,
  to_version_id uuid,
  moved_by uuid,
  moved_at timestamptz not null default now()
);
alter table public.model_alias_history enable row level security;
create index model_alias_history_model_idx on public.model_alias_history (model_id, moved_at desc);

-- ---------------------------------------------------------------------------------------------
-- audit_events: append-only. Nobody — not even the table owner — may UPDATE or DELETE (trigger).
create table public.audit_events (
  id bigint generated always as identity primary key,
  org_id uuid,
  actor_id uuid,
  actor_email text,
  via text not null default 'session' check (via in ('session', 'api_token', 'signed_link', 'system')),
  action text not null check (action ~ '^[a-z_]+\.[a-z_]+$'),
  target_type text,
  target_id text,
  model_id uuid,
  version_id uuid,
  bytes bigint,
  details jsonb not null default '{}'::jsonb,
  ip text,
  user_agent text,
  created_at timestamptz not null default now()
);
alter table public.audit_events enable row level security;
create index audit_events_org_created_idx on public.audit_events (org_id, created_at desc, id desc);
create index audit_events_model_idx on public.audit_events (model_id, created_at desc);
create index audit_events_org_action_idx on public.audit_events (org_id, action, created_at);

-- api_tokens: for pipelines and scripts. Only a SHA-256 of the secret is stored.
create table public.api_tokens (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  token_prefix text not null check (char_length(token_prefix) <= 16),
  role public.org_role not null check (role <> 'owner'),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
alter table public.api_tokens enable row level security;
create index api_tokens_org_idx on public.api_tokens (org_id, created_at desc);

-- ---------------------------------------------------------------------------------------------
-- Privileges. Supabase grants everything on public tables to anon/authenticated by default;
-- take it back and grant what each table needs, so RLS is not the only line.
revoke all on all tables in schema public from anon, authenticated;
grant select, insert, update, delete on public.memberships, public.model_versions, public.model_aliases to authenticated;
-- An org's slug is the first folder of its object keys: renaming it would orphan the files and let a
-- new org with the old slug claim them. Models' rollup columns are written by triggers only.
grant select, insert, delete, update (name) on public.organizations to authenticated;
grant select, delete, insert (org_id, slug, name, task_type, framework, description, tags, created_by),
  update (name, task_type, framework, description, tags, updated_at) on public.models to authenticated;
grant select, update (display_name) on public.profiles to authenticated;
grant select on public.model_alias_history, public.audit_events to authenticated;
grant select, insert on public.api_tokens to authenticated;
grant update (revoked_at) on public.api_tokens to authenticated;
revoke execute on function public.current_org_role(uuid), public.org_id_for_slug(text), public.shares_org_with(uuid) from public, anon;
grant execute on function public.current_org_role(uuid), public.is_org_member(uuid), public.has_org_role(uuid, public.org_role),
  public.role_rank(public.org_role), public.org_id_for_slug(text), public.shares_org_with(uuid) to authenticated;

-- ---------------------------------------------------------------------------------------------
-- Policies
create policy "Members can see their organizations" on public.organizations
  for select to authenticated using (public.is_org_member(id));
create policy "Signed-in users can create an organization they own" on public.organizations
  for insert to authenticated with check (created_by = auth.uid() and auth.jwt() -> 'fm_token' is null);
create policy "Admins can rename their organization" on public.organizations
  for update to authenticated using (public.has_org_role(id, 'admin')) with check (public.has_org_role(id, 'admin'));
create policy "Owners can delete their organization" on public.organizations
  for delete to authenticated using (public.has_org_role(id, 'owner'));

create policy "Members can see who else is in their organizations" on public.memberships
  for select to authenticated using (public.is_org_member(org_id));
create policy "Admins can add members; only owners can add owners" on public.memberships
  for insert to authenticated
  with check (public.has_org_role(org_id, 'admin') and (role <> 'owner' or public.has_org_role(org_id, 'owner')));
create policy "Admins can change roles; only owners can touch owners" on public.memberships
  for update to authenticated
  using (public.has_org_role(org_id, 'admin') and (role <> 'owner' or public.has_org_role(org_id, 'owner')))
  with check (public.has_org_role(org_id, 'admin') and (role <> 'owner' or public.has_org_role(org_id, 'owner')));
create policy "Admins can remove members; anyone can leave" on public.memberships
  for delete to authenticated
  using (
    (user_id = auth.uid() and auth.jwt() -> 'fm_token' is null)
    or (public.has_org_role(org_id, 'admin') and (role <> 'owner' or public.has_org_role(org_id, 'owner')))
  );

create policy "Users see their own profile and their co-members'" on public.profiles
  for select to authenticated using (id = auth.uid() or public.shares_org_with(id));
create policy "Users can edit their own profile" on public.profiles
  for update to authenticated using (id = auth.uid() and auth.jwt() -> 'fm_token' is null) with check (id = auth.uid());

create policy "Members can see their organization's models" on public.models
  for select to authenticated using (public.is_org_member(org_id));
create policy "Writers can create models" on public.models
  for insert to authenticated with check (public.has_org_role(org_id, 'member') and created_by = auth.uid());
create policy "Writers can edit models" on public.models
  for update to authenticated using (public.has_org_role(org_id, 'member')) with check (public.has_org_role(org_id, 'member'));
create policy "Admins can delete models" on public.models
  for delete to authenticated using (public.has_org_role(org_id, 'admin'));

create policy "Members see finished versions; uploaders see their own pending ones" on public.model_versions
  for select to authenticated
  using (public.is_org_member(org_id) and (status <> 'pending' or created_by = auth.uid()));
create policy "Writers can start an upload" on public.model_versions
  for insert to authenticated
  with check (public.has_org_role(org_id, 'member') and created_by = auth.uid() and status = 'pending'
    and public.org_id_for_slug((storage.foldername(object_key))[1]) = org_id);
create policy "Writers can finish uploads and retire versions" on public.model_versions
  for update to authenticated
  using (public.has_org_role(org_id, 'member'))
  with check (public.has_org_role(org_id, 'member') and public.org_id_for_slug((storage.foldername(object_key))[1]) = org_id);
create policy "Uploaders can abandon their own pending upload" on public.model_versions
  for delete to authenticated
  using (status = 'pending' and created_by = auth.uid() and public.has_org_role(org_id, 'member'));

create policy "Members can see aliases" on public.model_aliases
  for select to authenticated using (public.is_org_member(org_id));
create policy "Writers can create aliases" on public.model_aliases
  for insert to authenticated with check (public.has_org_role(org_id, 'member'));
create policy "Writers can move aliases" on public.model_aliases
  for update to authenticated using (public.has_org_role(org_id, 'member')) with check (public.has_org_role(org_id, 'member'));
create policy "Writers can remove aliases" on public.model_aliases
  for delete to authenticated using (public.has_org_role(org_id, 'member'));

create policy "Members can see alias history" on public.model_alias_history
  for select to authenticated using (public.is_org_member(org_id));

create policy "Members can read their organization's audit trail" on public.audit_events
  for select to authenticated using (org_id is not null and public.is_org_member(org_id));
create policy "Users can read their own account events" on public.audit_events
  for select to authenticated using (org_id is null and actor_id = auth.uid());

create policy "Users see their tokens; admins see all of the organization's" on public.api_tokens
  for select to authenticated using ((user_id = auth.uid() and public.is_org_member(org_id)) or public.has_org_role(org_id, 'admin'));
create policy "Members can create tokens no stronger than their own role" on public.api_tokens
  for insert to authenticated
  with check (
    user_id = auth.uid()
    and auth.jwt() -> 'fm_token' is null
    and public.is_org_member(org_id)
    and public.role_rank(role) <= public.role_rank(public.current_org_role(org_id))
  );
create policy "Owners of a token and admins can revoke it" on public.api_tokens
  for update to authenticated
  using (revoked_at is null and ((user_id = auth.uid() and public.is_org_member(org_id)) or public.has_org_role(org_id, 'admin')))
  with check (revoked_at is not null and ((user_id = auth.uid() and public.is_org_member(org_id)) or public.has_org_role(org_id, 'admin')));

-- ---------------------------------------------------------------------------------------------
-- Triggers

-- The creator of an organization becomes its owner.
create function public.add_creator_as_owner() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.created_by is not null then
    insert into public.memberships (org_id, user_id, role) values (new.id, new.created_by, 'owner')
    on conflict do nothing;
  end if;
  return new;
end
$$;
create trigger organizations_add_owner after insert on public.organizations
  for each row execute function public.add_creator_as_owner();

-- An organization keeps at least one owner.
create function public.keep_one_owner() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if old.role = 'owner' and (tg_op = 'DELETE' or new.role <> 'owner')
     and exists (select 1 from public.organizations o where o.id = old.org_id)
     and not exists (
       select 1 from public.memberships m
       where m.org_id = old.org_id and m.role = 'owner' and m.user_id <> old.user_id
     ) then
    raise exception 'an organization must keep at least one owner' using errcode = 'P0001';
  end if;
  return coalesce(new, old);
end
$$;
create trigger memberships_keep_owner before update or delete on public.memberships
  for each row execute function public.keep_one_owner();

-- Profiles follow auth.users.
create function public.handle_new_user() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, email, display_name)
  values (new.id, coalesce(new.email, ''), nullif(new.raw_user_meta_data ->> 'display_name', ''))
  on conflict (id) do update set email = excluded.email;
  return new;
end
$$;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function public.handle_new_user();

-- Search document of a model.
create function public.models_set_search() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.search := to_tsvector('simple',
    coalesce(new.slug, '') || ' ' || replace(coalesce(new.slug, ''), '_', ' ') || ' ' || coalesce(new.name, '') || ' ' ||
    coalesce(new.framework, '') || ' ' || coalesce(new.description, '') || ' ' || array_to_string(new.tags, ' '));
  if tg_op = 'UPDATE' then
    new.updated_at := greatest(new.updated_at, now());
  end if;
  return new;
end
$$;
create trigger models_search before insert or update of slug, name, framework, description, tags on public.models
  for each row execute function public.models_set_search();

-- Versions are immutable: once out of `pending`, only status moves (and scan results on rescan).
create function public.model_versions_guard() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status <> 'pending' and (
       new.version is distinct from old.version or new.object_key is distinct from old.object_key
    or new.size_bytes is distinct from old.size_bytes or new.sha256 is distinct from old.sha256
    or new.model_id is distinct from old.model_id or new.org_id is distinct from old.org_id
    or new.created_by is distinct from old.created_by or new.created_at is distinct from old.created_at) then
    raise exception 'model versions are immutable' using errcode = 'P0001';
  end if;
  if old.status = 'deleted' and new.status <> 'deleted' then
    raise exception 'a deleted version cannot be restored' using errcode = 'P0001';
  end if;
  -- Back to pending would make its bytes writable again (and skip the quarantine release).
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
create trigger model_versions_immutable before update on public.model_versions
  for each row execute function public.model_versions_guard();

-- Keep the denormalised columns of models in step with their visible versions.
create function public.models_refresh_rollup() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_model uuid := coalesce(new.model_id, old.model_id);
begin
  update public.models m set
    latest_version_id = l.id,
    latest_version = l.version,
    version_count = c.n,
    total_bytes = c.bytes,
    updated_at = greatest(m.updated_at, coalesce(l.ready_at, m.updated_at))
  from (
    select count(*)::int as n, coalesce(sum(size_bytes), 0)::bigint as bytes
    from public.model_versions v where v.model_id = v_model and v.status in ('ready', 'quarantined')
  ) c
  left join lateral (
    select v.id, v.version, v.ready_at from public.model_versions v
    where v.model_id = v_model and v.status in ('ready', 'quarantined')
    order by v.created_at desc, v.id desc limit 1
  ) l on true
  where m.id = v_model;
  return null;
end
$$;
create trigger model_versions_rollup after insert or update of status or delete on public.model_versions
  for each row execute function public.models_refresh_rollup();

-- Alias moves are history.
create function public.model_aliases_history() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    insert into public.model_alias_history (model_id, org_id, alias, from_version_id, to_version_id, moved_by)
    values (old.model_id, old.org_id, old.alias, old.version_id, null, auth.uid());
    return old;
  end if;
  if tg_op = 'UPDATE' and new.version_id is not distinct from old.version_id then
    return new;
  end if;
  insert into public.model_alias_history (model_id, org_id, alias, from_version_id, to_version_id, moved_by)
  values (new.model_id, new.org_id, new.alias, case when tg_op = 'UPDATE' then old.version_id end, new.version_id, auth.uid());
  return new;
end
$$;
create trigger model_aliases_history after insert or update or delete on public.model_aliases
  for each row execute function public.model_aliases_history();

-- An alias must point at a version of the same organization that is ready.
create function public.model_aliases_check() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if not exists (
    select 1 from public.model_versions v
    where v.id = new.version_id and v.org_id = new.org_id and v.status = 'ready'
  ) then
    raise exception 'an alias can only point at a ready version of the same model' using errcode = '23514';
  end if;
  new.updated_by := auth.uid();
  new.updated_at := now();
  return new;
end
$$;
create trigger model_aliases_check before insert or update on public.model_aliases
  for each row execute function public.model_aliases_check();

create function public.audit_events_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'audit_events is append-only' using errcode = '42501';
end
$$;
create trigger audit_events_no_update before update or delete on public.audit_events
  for each row execute function public.audit_events_append_only();
create trigger audit_events_no_truncate before truncate on public.audit_events
  for each statement execute function public.audit_events_append_only();
create trigger model_alias_history_no_update before update or delete on public.model_alias_history
  for each row execute function public.audit_events_append_only();
create trigger model_alias_history_no_truncate before truncate on public.model_alias_history
  for each statement execute function public.audit_events_append_only();

-- ---------------------------------------------------------------------------------------------
-- Functions users call (SECURITY DEFINER where they must read what RLS hides, with the check inside)

-- Record an audit event as the caller. Only the actions the server records itself are allowed.
create function public.record_audit_event(
  p_org uuid, p_action text, p_target_type text default null, p_target_id text default null,
  p_model uuid default null, p_version uuid default null, p_bytes bigint default null,
  p_details jsonb default '{}'::jsonb, p_ip text default null, p_user_agent text default null
) returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  v_id bigint;
  v_via text := case when auth.jwt() -> 'fm_token' is not null then 'api_token'
                     when auth.jwt() -> 'fm_link' is not null then 'signed_link' else 'session' end;
begin
  if auth.uid() is null then
    raise exception 'not signed in' using errcode = '42501';
  end if;
  if p_org is not null and not public.is_org_member(p_org) then
    raise exception 'not a member of this organization' using errcode = '42501';
  end if;
  insert into public.audit_events (org_id, actor_id, actor_email, via, action, target_type, target_id,
    model_id, version_id, bytes, details, ip, user_agent)
  values (p_org, auth.uid(), (select u.email from auth.users u where u.id = auth.uid()), v_via, p_action,
    p_target_type, p_target_id, p_model, p_version, p_bytes, coalesce(p_details, '{}'::jsonb),
    left(p_ip, 64), left(p_user_agent, 512))
  returning id into v_id;
  return v_id;
end
$$;

-- Owners and admins add an existing user by e-mail (auth.users is not readable by users).
create function public.add_member_by_email(p_org uuid, p_email text, p_role public.org_role) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_user uuid;
begin
  if not public.has_org_role(p_org, 'admin') or (p_role = 'owner' and not public.has_org_role(p_org, 'owner')) then
    raise exception 'only owners and admins can add members' using errcode = '42501';
  end if;
  select u.id into v_user from auth.users u where lower(u.email) = lower(trim(p_email));
  if v_user is null then
    raise exception 'no user with that e-mail address' using errcode = 'P0002';
  end if;
  insert into public.memberships (org_id, user_id, role) values (p_org, v_user, p_role);
  return v_user;
end
$$;

-- Resolve an API token's hash to who it acts for (called before the request has a user, like
-- Supabase Auth does for sessions). Revoked, expired or orphaned tokens resolve to nothing.
create function public.resolve_api_token(p_hash text)
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
  returning t.id, t.user_id, u.email, t.org_id, t.role;
end
$$;

-- Whether the caller may read an object's bytes: quarantined versions are for owners and admins.
create function public.object_is_downloadable(p_bucket text, p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select not exists (
    select 1 from public.model_versions v
    where v.object_key = p_name and v.status in ('quarantined', 'pending', 'deleted')
      and not public.has_org_role(v.org_id, 'admin')
  )
$$;

revoke execute on function public.record_audit_event(uuid, text, text, text, uuid, uuid, bigint, jsonb, text, text),
  public.add_member_by_email(uuid, text, public.org_role), public.resolve_api_token(text),
  public.object_is_downloadable(text, text) from public, anon;
grant execute on function public.record_audit_event(uuid, text, text, text, uuid, uuid, bigint, jsonb, text, text),
  public.add_member_by_email(uuid, text, public.org_role), public.object_is_downloadable(text, text) to authenticated;
grant execute on function public.resolve_api_token(text) to anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- Storage: the private bucket and who may touch its objects. The first folder of an object's
-- name is the organization's slug: ai-models/<org_slug>/<model_slug>_v<version>.<ext>
-- (Amended: inside one guarded block. Where the role running the migrations may not write to
-- storage.buckets or create policies on storage.objects — a hosted-style database whose storage
-- tables belong to supabase_storage_admin — the block is skipped with a warning instead of failing
-- the whole migration. 20261202000200_storage_policies.sql replaces these policies, and says what
-- to run where it cannot; /api/health reports missing policies.)
do $storage$
begin
  insert into storage.buckets (id, name, public) values ('ai-models', 'ai-models', false)
  on conflict (id) do nothing;

  create policy "Members can read their organization's model files" on storage.objects
    for select to authenticated
    using (
      bucket_id = 'ai-models'
      and public.is_org_member(public.org_id_for_slug((storage.foldername(name))[1]))
      and public.object_is_downloadable(bucket_id, name)
    );
  create policy "Writers can upload model files to their organization" on storage.objects
    for insert to authenticated
    with check (
      bucket_id = 'ai-models'
      and public.has_org_role(public.org_id_for_slug((storage.foldername(name))[1]), 'member')
    );
  -- No update policy: stored model files are never overwritten.
  create policy "Admins, or the writer who uploaded it, can delete a model file" on storage.objects
    for delete to authenticated
    using (
      bucket_id = 'ai-models'
      and (
        public.has_org_role(public.org_id_for_slug((storage.foldername(name))[1]), 'admin')
        or (owner_id = auth.uid()::text
            and public.has_org_role(public.org_id_for_slug((storage.foldername(name))[1]), 'member'))
      )
    );
exception when insufficient_privilege then
  raise warning 'storage bucket and policies not created here (%): see 20261202000200_storage_policies.sql', sqlerrm;
end
$storage$;
