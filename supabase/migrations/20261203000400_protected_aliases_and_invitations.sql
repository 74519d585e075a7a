-- Issue #15 part A.
-- 1. Protected aliases: a per-organization list of alias names (e.g. `production`) that only owners
--    and admins may point, move or remove, in every model of the organization. Enforced here (a
--    trigger on model_aliases), so the API, the UI and the Data API all get the same answer.
-- 2. Invitations by e-mail: an admin invites an address with a role; the invitee opens a link that
--    carries a secret token (only its SHA-256 is stored), signs up or in with that address, and joins.

-- ---------------------------------------------------------------------------------------------
-- Protected aliases
create table public.protected_aliases (
  org_id uuid not null references public.organizations (id) on delete cascade,
  alias text not null check (alias ~ '^[a-z][a-z0-9_-]{0,39}$'),
  created_by uuid references auth.users (id) on delete set null default auth.uid(),
  created_at timestamptz not null default now(),
  primary key (org_id, alias)
);
alter table public.protected_aliases enable row level security;
grant select, insert, delete on public.protected_aliases to authenticated;

create policy "Members can see which aliases are protected" on public.protected_aliases
  for select to authenticated using (org_id in (select public.member_org_ids()));
create policy "Admins can protect aliases" on public.protected_aliases
  for insert to authenticated with check (public.has_org_role(org_id, 'admin'));
create policy "Admins can unprotect aliases" on public.protected_aliases
  for delete to authenticated using (public.has_org_role(org_id, 'admin'));

create function public.alias_is_protected(p_org uuid, p_alias text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (select 1 from public.protected_aliases pa where pa.org_id = p_org and pa.alias = p_alias)
$$;
revoke execute on function public.alias_is_protected(uuid, text) from public, anon;
grant execute on function public.alias_is_protected(uuid, text) to authenticated;

-- Refuses a move (insert, update or delete) of a protected alias by anyone below admin. Requests
-- without a user (the service role: seeding, migrations, admin tools) are not user requests.
create function public.model_aliases_protect() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_org uuid := coalesce(new.org_id, old.org_id);
  v_alias text := coalesce(new.alias, old.alias);
begin
  if auth.uid() is null then
    return coalesce(new, old);
  end if;
  -- An organization being deleted takes its aliases with it (its owner may already be gone).
  if tg_op = 'DELETE' and not exists (select 1 from public.organizations o where o.id = old.org_id) then
    return old;
  end if;
  if public.alias_is_protected(v_org, v_alias) and not public.has_org_role(v_org, 'admin') then
    raise exception '"%" is a protected alias: only owners and admins can move it.', v_alias using errcode = '42501';
  end if;
  return coalesce(new, old);
end
$$;
create trigger model_aliases_protect before insert or update or delete on public.model_aliases
  for each row execute function public.model_aliases_protect();

-- ---------------------------------------------------------------------------------------------
-- Invitations
create table public.org_invitations (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  email text not null check (char_length(email) between 3 and 320 and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  role public.org_role not null,
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  invited_by uuid references auth.users (id) on delete set null default auth.uid(),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  revoked_at timestamptz,
  revoked_by uuid references auth.users (id) on delete set null,
  check (expires_at > created_at)
);
alter table public.org_invitations enable row level security;
create index org_invitations_org_idx on public.org_invitations (org_id, created_at desc);
grant select, insert on public.org_invitations to authenticated;
-- Revoking is the only change a user makes; accepting goes through accept_org_invitation().
grant update (revoked_at, revoked_by) on public.org_invitations to authenticated;

create policy "Admins can see their organization's invitations" on public.org_invitations
  for select to authenticated using (public.has_org_role(org_id, 'admin'));
create policy "Admins can invite; only owners can invite owners" on public.org_invitations
  for insert to authenticated
  with check (
    public.has_org_role(org_id, 'admin') and (role <> 'owner' or public.has_org_role(org_id, 'owner'))
    and invited_by = auth.uid() and auth.jwt() -> 'fm_token' is null
    and accepted_at is null and revoked_at is null and expires_at <= now() + interval '30 days'
  );
create policy "Admins can revoke pending invitations" on public.org_invitations
  for update to authenticated
  using (public.has_org_role(org_id, 'admin') and accepted_at is null and revoked_at is null
    and (role <> 'owner' or public.has_org_role(org_id, 'owner')))
  with check (public.has_org_role(org_id, 'admin') and revoked_at is not null and revoked_by = auth.uid());

-- What an invitation link shows before its holder signs in: the organization, the role, the
-- invited address and whether it can still be used. The token hash is the capability.
create function public.invitation_preview(p_token_hash text)
returns table (org_name text, org_slug text, email text, role public.org_role, expires_at timestamptz, status text)
language sql stable security definer
set search_path = ''
as $$
  select o.name, o.slug, i.email, i.role, i.expires_at,
    case when i.revoked_at is not null then 'revoked'
         when i.accepted_at is not null then 'accepted'
         when i.expires_at <= now() then 'expired'
         else 'pending' end
  from public.org_invitations i join public.organizations o on o.id = i.org_id
  where i.token_hash = p_token_hash
$$;

-- The signed-in invitee accepts: the invitation must be pending and for the caller's e-mail. An
-- existing member keeps their role (an invitation never demotes or promotes anyone).
create function public.accept_org_invitation(p_token_hash text)
returns table (org_id uuid, org_slug text, role public.org_role, already_member boolean)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_inv public.org_invitations%rowtype;
  v_email text;
  v_existing public.org_role;
begin
  if auth.uid() is null or auth.jwt() -> 'fm_token' is not null then
    raise exception 'Sign in to accept an invitation.' using errcode = '42501';
  end if;
  select * into v_inv from public.org_invitations i where i.token_hash = p_token_hash for update;
  if not found then
    raise exception 'This invitation link is not valid.' using errcode = 'P0002';
  end if;
  if v_inv.revoked_at is not null then
    raise exception 'This invitation was withdrawn. Ask an admin of the organization for a new one.';
  end if;
  if v_inv.accepted_at is not null then
    raise exception 'This invitation has already been used.';
  end if;
  if v_inv.expires_at <= now() then
    raise exception 'This invitation has expired. Ask an admin of the organization for a new one.';
  end if;
  select u.email into v_email from auth.users u where u.id = auth.uid();
  if v_email is null or lower(v_email) <> lower(v_inv.email) then
    raise exception 'This invitation is for another e-mail address.' using errcode = '42501';
  end if;
  select m.role into v_existing from public.memberships m where m.org_id = v_inv.org_id and m.user_id = auth.uid();
  if v_existing is null then
    insert into public.memberships (org_id, user_id, role) values (v_inv.org_id, auth.uid(), v_inv.role);
  end if;
  update public.org_invitations i set accepted_at = now(), accepted_by = auth.uid() where i.id = v_inv.id;
  return query select v_inv.org_id, o.slug, coalesce(v_existing, v_inv.role), v_existing is not null
    from public.organizations o where o.id = v_inv.org_id;
end
$$;

revoke execute on function public.invitation_preview(text), public.accept_org_invitation(text) from public, anon;
grant execute on function public.invitation_preview(text) to anon, authenticated;
grant execute on function public.accept_org_invitation(text) to authenticated;
