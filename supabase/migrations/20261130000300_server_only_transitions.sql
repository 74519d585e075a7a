-- On Supabase, every signed-in user can also reach the public schema directly through the Data API
-- (PostgREST / GraphQL) with their own token. RLS keeps them inside their organizations, but two
-- things must only ever be done by this app's server, after it verified the bytes:
--   * finishing an upload (pending -> ready/quarantined, with the SHA-256 and size it measured);
--   * writing audit events (a forged download would inflate usage and cost).
-- The server marks its transactions with the GUC fairmind.via = 'server' (lib/db/client.ts withUser);
-- the Data API cannot set custom GUCs (it only sets request.*). Turning the Data API off for this
-- project, or removing `public` from its exposed schemas, closes the door entirely (README).

create function public.via_app_server() returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce(current_setting('fairmind.via', true), '') = 'server'
$$;

create function public.model_versions_finalize_guard() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status = 'pending' and new.status <> 'pending'
     and current_user = 'authenticated' and not public.via_app_server() then
    raise exception 'uploads are finished by the server after it verified the bytes' using errcode = '42501';
  end if;
  return new;
end
$$;
create trigger model_versions_finalize_guard before update on public.model_versions
  for each row execute function public.model_versions_finalize_guard();

create function public.audit_events_server_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- Requests made for a user carry their claims; only the server's own transactions may record.
  if coalesce(auth.jwt() ->> 'role', '') in ('authenticated', 'anon') and not public.via_app_server() then
    raise exception 'audit events are recorded by the server' using errcode = '42501';
  end if;
  return new;
end
$$;
create trigger audit_events_server_only before insert on public.audit_events
  for each row execute function public.audit_events_server_only();
