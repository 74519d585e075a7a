-- Seed for `supabase db reset` on a local Supabase stack: the two organizations of the original guide.
-- Users and model files cannot be created from SQL on Supabase (Auth and Storage own them): sign up
-- through the app, then add yourself as an owner, e.g.
--   insert into public.memberships (org_id, user_id, role)
--   select o.id, u.id, 'owner' from public.organizations o, auth.users u
--   where o.slug = 'demo_org' and u.email = 'you@example.com';
-- or run `npm run seed -- --allow-supabase` with SUPABASE_SERVICE_ROLE_KEY set.
insert into public.organizations (slug, name) values
  ('demo_org', 'Demo Org'),
  ('admin_org', 'Admin Org')
on conflict (slug) do nothing;
