-- Signed webhooks (issue 14). An organization's admins register endpoints (URL, events, a secret);
-- every event the server records is written here as one delivery per subscribed endpoint, in the
-- same transaction as the change itself (a transactional outbox), and the app server's dispatcher
-- sends them later (lib/webhooks). Admins see endpoints and every delivery and attempt; nobody reads
-- a secret back through SQL as a user: the column is not granted to `authenticated`.

create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  url text not null check (url ~ '^https?://' and length(url) <= 2048),
  description text not null default '' check (length(description) <= 200),
  events text[] not null check (
    cardinality(events) between 1 and 4
    and events <@ array['version.created', 'version.quarantined', 'version.deleted', 'alias.moved']::text[]
  ),
  secret text not null check (length(secret) between 16 and 200),
  active boolean not null default true,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now()
);
alter table public.webhook_endpoints enable row level security;
create index webhook_endpoints_org_idx on public.webhook_endpoints (org_id, created_at desc);

create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  endpoint_id uuid not null references public.webhook_endpoints (id) on delete cascade,
  -- The event's id: the same in every delivery (and redelivery) of one event, so receivers can dedupe.
  event_id uuid not null,
  event_type text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivering', 'succeeded', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- A claimed delivery belongs to one dispatcher until then; after it, another may take it over.
  locked_until timestamptz,
  last_status_code integer,
  last_error text,
  redelivery_of uuid references public.webhook_deliveries (id) on delete set null,
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
alter table public.webhook_deliveries enable row level security;
create index webhook_deliveries_due_idx on public.webhook_deliveries (next_attempt_at) where status in ('pending', 'delivering');
create index webhook_deliveries_endpoint_idx on public.webhook_deliveries (endpoint_id, created_at desc);
create index webhook_deliveries_org_idx on public.webhook_deliveries (org_id, created_at desc);

create table public.webhook_attempts (
  id bigint generated always as identity primary key,
  delivery_id uuid not null references public.webhook_deliveries (id) on delete cascade,
  org_id uuid not null references public.organizations (id) on delete cascade,
  attempt integer not null,
  started_at timestamptz not null,
  duration_ms integer not null,
  status_code integer,
  error text
);
alter table public.webhook_attempts enable row level security;
create index webhook_attempts_delivery_idx on public.webhook_attempts (delivery_id, attempt);

revoke all on public.webhook_endpoints, public.webhook_deliveries, public.webhook_attempts from anon, authenticated;
-- IMPORTANT: no `secret` here: it is shown once, in the answer that created it, and read back only
-- by the dispatcher's own connection.
grant select (id, org_id, url, description, events, active, created_by, created_at) on public.webhook_endpoints to authenticated;
grant insert (org_id, url, description, events, secret) on public.webhook_endpoints to authenticated;
grant update (active, description, events) on public.webhook_endpoints to authenticated;
grant delete on public.webhook_endpoints to authenticated;
grant select on public.webhook_deliveries, public.webhook_attempts to authenticated;

create policy "Admins see their organization's webhook endpoints" on public.webhook_endpoints
  for select to authenticated using (public.has_org_role(org_id, 'admin'));
create policy "Admins register webhook endpoints" on public.webhook_endpoints
  for insert to authenticated with check (public.has_org_role(org_id, 'admin') and created_by = auth.uid());
create policy "Admins change webhook endpoints" on public.webhook_endpoints
  for update to authenticated using (public.has_org_role(org_id, 'admin')) with check (public.has_org_role(org_id, 'admin'));
create policy "Admins remove webhook endpoints" on public.webhook_endpoints
  for delete to authenticated using (public.has_org_role(org_id, 'admin'));
create policy "Admins see their organization's webhook deliveries" on public.webhook_deliveries
  for select to authenticated using (public.has_org_role(org_id, 'admin'));
create policy "Admins see their organization's webhook attempts" on public.webhook_attempts
  for select to authenticated using (public.has_org_role(org_id, 'admin'));

-- The event envelope every receiver gets (docs/webhooks.md).
create function public.webhook_payload(p_event uuid, p_type text, p_org uuid, p_data jsonb) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_event,
    'type', p_type,
    'created_at', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'org', jsonb_build_object('id', o.id, 'slug', o.slug),
    'data', p_data)
  from public.organizations o where o.id = p_org
$$;

-- Raised by the server, in the transaction of the change (lib/webhooks/events.ts): one delivery per
-- active endpoint of the organization that subscribed to the event. Members cause events (uploads,
-- alias moves) but cannot write deliveries: this function can, and only on the app server's own
-- transactions (not through the Data API) and for an organization the caller belongs to.
create function public.enqueue_webhook_event(p_org uuid, p_type text, p_data jsonb) returns integer
language plpgsql security definer
set search_path = ''
as $$
declare
  v_event uuid := gen_random_uuid();
  v_count integer;
begin
  if not public.via_app_server() or not public.is_org_member(p_org) then
    raise exception 'webhook events are raised by the server' using errcode = '42501';
  end if;
  insert into public.webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload)
  select p_org, e.id, v_event, p_type, public.webhook_payload(v_event, p_type, p_org, p_data)
  from public.webhook_endpoints e
  where e.org_id = p_org and e.active and p_type = any (e.events);
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- A test event (`ping`) to one endpoint, for its organization's admins.
create function public.ping_webhook_endpoint(p_endpoint uuid) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_org uuid;
  v_event uuid := gen_random_uuid();
  v_id uuid;
begin
  select org_id into v_org from public.webhook_endpoints where id = p_endpoint;
  if v_org is null or not public.via_app_server() or not public.has_org_role(v_org, 'admin') then
    raise exception 'no such webhook endpoint' using errcode = '42501';
  end if;
  insert into public.webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload)
  values (v_org, p_endpoint, v_event, 'ping',
    public.webhook_payload(v_event, 'ping', v_org, jsonb_build_object('endpoint_id', p_endpoint)))
  returning id into v_id;
  return v_id;
end
$$;

-- Sends a delivery's event again, as a new delivery with the same event id and body.
create function public.redeliver_webhook(p_delivery uuid) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  d public.webhook_deliveries;
  v_id uuid;
begin
  select * into d from public.webhook_deliveries where id = p_delivery;
  if d.id is null or not public.via_app_server() or not public.has_org_role(d.org_id, 'admin') then
    raise exception 'no such webhook delivery' using errcode = '42501';
  end if;
  insert into public.webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload, redelivery_of)
  values (d.org_id, d.endpoint_id, d.event_id, d.event_type, d.payload, d.id)
  returning id into v_id;
  return v_id;
end
$$;

revoke execute on function public.webhook_payload(uuid, text, uuid, jsonb), public.enqueue_webhook_event(uuid, text, jsonb),
  public.ping_webhook_endpoint(uuid), public.redeliver_webhook(uuid) from public, anon;
grant execute on function public.enqueue_webhook_event(uuid, text, jsonb), public.ping_webhook_endpoint(uuid),
  public.redeliver_webhook(uuid) to authenticated;
