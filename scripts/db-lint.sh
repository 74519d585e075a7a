#!/usr/bin/env bash
# Lints the schema the way `supabase db lint` does on a Supabase project (plpgsql_check over every
# function in public and storage), against a throwaway database on the local Postgres server built
# from supabase/local/shim.sql + supabase/migrations/*.sql. Exits non-zero on any lint error.
#
#   scripts/db-lint.sh                # server at 127.0.0.1:5432, user postgres (trust auth)
#   PGHOST=… PGPORT=… PGUSER=… scripts/db-lint.sh
#
# Needs the plpgsql_check extension on the server (Debian: apt-get install postgresql-15-plpgsql-check).
set -euo pipefail

cd "$(dirname "$0")/.."

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
DB="fm_lint_$$_$(date +%s)"

psql_q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
  psql_q -d postgres -c "drop database if exists ${DB} with (force)" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

psql_q -d postgres -c "create database ${DB}" >/dev/null

# Same order as lib/db/migrate.ts: the shim, then every migration by file name, each in one transaction.
# DB_LINT_EXTRA_SQL: one more file applied last (the test uses it to prove the linter bites).
for f in supabase/local/shim.sql supabase/migrations/*.sql ${DB_LINT_EXTRA_SQL:+"$DB_LINT_EXTRA_SQL"}; do
  echo "apply ${f}"
  psql_q -1 -d "${DB}" -f "${f}" >/dev/null
done

status=0
echo "lint ${DB} (schemas public, storage)"
npx --no-install supabase db lint \
  --db-url "postgres://${PGUSER}@${PGHOST}:${PGPORT}/${DB}?sslmode=disable" \
  --schema public,storage --level warning --fail-on error || status=$?

# IMPORTANT: `supabase db lint` skips trigger functions (plpgsql_check needs the table a trigger is
# on), and most of our PL/pgSQL is triggers. Check each trigger's function against its table here.
echo "lint trigger functions (public, storage)"
issues="$(psql_q -d "${DB}" -At -F ' | ' <<'SQL'
create extension if not exists plpgsql_check;
select r.level, t.tgrelid::regclass, t.tgname, p.oid::regprocedure, 'line ' || coalesce(r.lineno::text, '?'), r.message
from pg_trigger t
join pg_proc p on p.oid = t.tgfoid
join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
join pg_namespace n on n.oid = p.pronamespace and n.nspname in ('public', 'storage')
cross join lateral plpgsql_check_function_tb(p.oid, t.tgrelid, fatal_errors := false, extra_warnings := true,
  performance_warnings := false, other_warnings := true) r
where not t.tgisinternal
order by 1, 2, 3;
SQL
)"
if [[ -n "${issues}" ]]; then
  echo "${issues}"
  if grep -q '^error ' <<<"${issues}"; then
    echo "trigger function errors found"
    status=1
  fi
else
  echo "No trigger function errors found"
fi
exit "${status}"
