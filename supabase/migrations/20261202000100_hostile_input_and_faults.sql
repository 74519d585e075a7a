-- Hostile input, faults and load (issue 10).

-- ---------------------------------------------------------------------------------------------
-- 1. An API token acts only while it is active. A request resolved from a token carries its id in
-- the fm_token claim; revoking or expiring the token now cuts every path that uses those claims at
-- once — including a signed link issued with the token, which replays its claims later.
create function public.caller_token_active() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select case
    when auth.jwt() -> 'fm_token' is null then true
    else exists (
      select 1 from public.api_tokens t
      where t.id::text = auth.jwt() -> 'fm_token' ->> 'id'
        and t.user_id = auth.uid()
        and t.org_id::text = auth.jwt() -> 'fm_token' ->> 'org_id'
        and t.revoked_at is null
        and (t.expires_at is null or t.expires_at > now())
    )
  end
$$;
revoke execute on function public.caller_token_active() from public, anon;
grant execute on function public.caller_token_active() to authenticated;

create or replace function public.current_org_role(p_org uuid) returns public.org_role
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
    if (v_token ->> 'org_id') is distinct from p_org::text or not public.caller_token_active() then
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

create or replace function public.member_org_ids() returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select m.org_id from public.memberships m
  where m.user_id = auth.uid()
    and (auth.jwt() -> 'fm_token' is null
         or ((auth.jwt() -> 'fm_token' ->> 'org_id') = m.org_id::text and public.caller_token_active()))
$$;

-- ---------------------------------------------------------------------------------------------
-- 2. Viewers read; they do not create API tokens (docs/decisions.md).
drop policy "Members can create tokens no stronger than their own role" on public.api_tokens;
create policy "Writers can create tokens no stronger than their own role" on public.api_tokens
  for insert to authenticated
  with check (
    user_id = auth.uid()
    and auth.jwt() -> 'fm_token' is null
    and public.has_org_role(org_id, 'member')
    and public.role_rank(role) <= public.role_rank(public.current_org_role(org_id))
  );

-- ---------------------------------------------------------------------------------------------
-- 3. Alias history in commit order. now() is the transaction's start: concurrent moves that
-- committed in one order could be listed in another and the from -> to chain would seem to break.
-- Moves of one alias are serialized by the service (an advisory lock); the clock is the wall clock.
alter table public.model_alias_history alter column moved_at set default clock_timestamp();

-- ---------------------------------------------------------------------------------------------
-- 4. A reservation is a lease. A pending version is held while its upload streams (the server
-- renews lease_until); an upload whose process died loses it, and the next upload of that version
-- takes the number over instead of meeting a 409 for a day.
alter table public.model_versions add column lease_until timestamptz;
-- What the client announced when it reserved, checked when the upload completes (a mismatch leaves nothing).
alter table public.model_versions add column expected_size bigint check (expected_size >= 0);
alter table public.model_versions add column expected_sha256 text check (expected_sha256 ~ '^[0-9a-f]{64}$');
update public.model_versions set lease_until = created_at + interval '1 hour' where status = 'pending';

-- Removes a pending version whose lease ran out, so a new upload of the same number can start. The
-- caller must be able to write to the organization; what was removed is returned so the caller can
-- clean up its bytes.
create function public.release_stale_reservation(p_model uuid, p_version text)
returns table (id uuid, org_id uuid, object_key text, storage_backend text, created_by uuid)
language plpgsql security definer
set search_path = ''
as $$
begin
  return query
  delete from public.model_versions v
  where v.model_id = p_model and v.version = p_version and v.status = 'pending'
    and coalesce(v.lease_until, v.created_at + interval '1 hour') < now()
    and public.has_org_role(v.org_id, 'member')
  returning v.id, v.org_id, v.object_key, v.storage_backend, v.created_by;
end
$$;
revoke execute on function public.release_stale_reservation(uuid, text) from public, anon;
grant execute on function public.release_stale_reservation(uuid, text) to authenticated;

-- ---------------------------------------------------------------------------------------------
-- 5. Failed local sign-ins, shared by every app server on this database (the embedded and postgres
-- modes; Supabase Auth throttles its own). Only the server's own connection touches it.
create table public.sign_in_failures (
  key text primary key check (char_length(key) <= 400),
  failures integer not null default 0,
  window_start timestamptz not null default now(),
  last_failure timestamptz not null default now()
);
alter table public.sign_in_failures enable row level security;
revoke all on public.sign_in_failures from anon, authenticated;
