-- What a hosted Supabase project's database has before Storage and our migrations touch it, for the
-- real-Supabase lane (npm run test:supabase). Run as a superuser on the database the Storage server
-- will use, BEFORE the server's first start (its migrations then create storage.*, owned by
-- supabase_storage_admin because that is the role it connects as).
--
-- Idempotent: roles are cluster-wide and may exist already (the local shim creates some of them).
-- The setting sblane.hosted_role (set by prepare.ts) names the stand-in for hosted `postgres`: on this machine `postgres` is a
-- superuser, which is exactly what a hosted project's `postgres` is not.

-- ---------------------------------------------------------------------------------------------
-- Roles (supabase/postgres init scripts: API roles, the service admins, authenticator)
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin noinherit; end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then create role authenticated nologin noinherit; end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then create role service_role nologin noinherit bypassrls; end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then create role authenticator login noinherit; end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then create role supabase_auth_admin login noinherit createrole; end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_storage_admin') then create role supabase_storage_admin login noinherit createrole; end if;
end
$$;
-- The shim may have created service_role without BYPASSRLS on an older run; Supabase's has it.
alter role service_role bypassrls;
grant anon, authenticated, service_role to authenticator;
-- Storage connects as supabase_storage_admin and switches to the caller's role per request.
grant anon, authenticated, service_role to supabase_storage_admin;

do $$
declare hosted text := current_setting('sblane.hosted_role');
begin
  if not exists (select 1 from pg_roles where rolname = hosted) then
    execute format('create role %I login nosuperuser createdb createrole bypassrls', hosted);
  end if;
end
$$;
-- Hosted `postgres`: not a superuser, BYPASSRLS, member of the API roles (it can `set role`), and —
-- since the 2025 permission changes — NOT a member of supabase_storage_admin.
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('alter role %I nosuperuser bypassrls', hosted); end $$;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('grant anon, authenticated, service_role to %I', hosted); end $$;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('revoke supabase_storage_admin from %I', hosted); end $$;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('revoke supabase_auth_admin from %I', hosted); end $$;

-- The hosted database belongs to postgres, so it owns public (pg_database_owner) and may create schemas.
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('alter database %I owner to %I', current_database(), hosted); end $$;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('grant all on schema public to %I', hosted); end $$;
grant usage on schema public to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- auth: owned by supabase_auth_admin; auth.users with GoTrue's real column types and indexes.
create schema if not exists auth authorization supabase_auth_admin;
grant usage on schema auth to anon, authenticated, service_role;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('grant usage on schema auth to %I', hosted); end $$;

create table if not exists auth.users (
  instance_id uuid,
  id uuid not null primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_token varchar(255),
  confirmation_sent_at timestamptz,
  recovery_token varchar(255),
  recovery_sent_at timestamptz,
  email_change_token_new varchar(255),
  email_change varchar(255),
  email_change_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz,
  updated_at timestamptz,
  phone text unique default null,
  phone_confirmed_at timestamptz,
  phone_change text default '',
  phone_change_token varchar(255) default '',
  phone_change_sent_at timestamptz,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current varchar(255) default '',
  email_change_confirm_status smallint default 0 check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
  banned_until timestamptz,
  reauthentication_token varchar(255) default '',
  reauthentication_sent_at timestamptz,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false
);
alter table auth.users owner to supabase_auth_admin;
-- GoTrue's e-mail uniqueness is a PARTIAL unique index, not a constraint (migration
-- 20221215195500_modify_users_email_unique_index): ON CONFLICT (email) has nothing to match.
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower(email::text));
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);
alter table auth.users enable row level security;
-- Hosted postgres may reference, read and write auth.users and create triggers on it, not alter it.
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('grant all on auth.users to %I', hosted); end $$;
grant all on auth.users to service_role;

-- Supabase's auth helpers (GoTrue migration 20240624145325): request.jwt.claims, falling back to
-- the older request.jwt.claim(.<name>) settings.
create or replace function auth.uid() returns uuid language sql stable set search_path to '' as $$
  select coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid
$$;
create or replace function auth.role() returns text language sql stable set search_path to '' as $$
  select coalesce(nullif(current_setting('request.jwt.claim.role', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'))::text
$$;
create or replace function auth.email() returns text language sql stable set search_path to '' as $$
  select coalesce(nullif(current_setting('request.jwt.claim.email', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'))::text
$$;
create or replace function auth.jwt() returns jsonb language sql stable set search_path to '' as $$
  select coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                  nullif(current_setting('request.jwt.claims', true), ''))::jsonb
$$;
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt() to anon, authenticated, service_role;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt() to %I', hosted); end $$;

-- extensions: where Supabase keeps pgcrypto and uuid-ossp.
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
grant usage on schema extensions to anon, authenticated, service_role;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('grant usage on schema extensions to %I', hosted); end $$;

-- ---------------------------------------------------------------------------------------------
-- storage: the schema exists before the Storage server's first start, as on hosted projects, owned
-- by supabase_storage_admin; what it creates there is granted to the API roles and postgres.
create schema if not exists storage authorization supabase_storage_admin;
alter schema storage owner to supabase_storage_admin;
grant usage on schema storage to anon, authenticated, service_role;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('grant usage on schema storage to %I', hosted); end $$;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('alter default privileges for role supabase_storage_admin in schema storage grant all on tables to anon, authenticated, service_role, %I', hosted); end $$;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('alter default privileges for role supabase_storage_admin in schema storage grant all on functions to anon, authenticated, service_role, %I', hosted); end $$;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('alter default privileges for role supabase_storage_admin in schema storage grant all on sequences to anon, authenticated, service_role, %I', hosted); end $$;
-- The Storage server's migrations create its schema objects; it needs to create in this database.
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('grant create, connect on database %I to supabase_storage_admin', current_database()); end $$;

-- ---------------------------------------------------------------------------------------------
-- Supabase's default privileges: what postgres creates in public is granted to the API roles.
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('alter default privileges for role %I in schema public grant all on tables to anon, authenticated, service_role', hosted); end $$;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('alter default privileges for role %I in schema public grant all on functions to anon, authenticated, service_role', hosted); end $$;
do $$ declare hosted text := current_setting('sblane.hosted_role'); begin execute format('alter default privileges for role %I in schema public grant all on sequences to anon, authenticated, service_role', hosted); end $$;
