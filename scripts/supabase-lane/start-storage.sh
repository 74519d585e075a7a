#!/usr/bin/env bash
# Runs an ALREADY BUILT Supabase Storage server (github.com/supabase/storage, built outside this
# repository: see README "Real Supabase Storage lane") on a database shaped like a hosted project's.
#
#   SUPABASE_STORAGE_DIR=/path/to/storage   its checkout, with dist/start/server.js built
#   SUPABASE_STORAGE_NODE=/path/to/node     a Node 24 binary (default: node on PATH)
#   SUPABASE_TEST_DB_URL=postgres://postgres@127.0.0.1:5432/sblane_storage   superuser URL (setup)
#   SUPABASE_TEST_JWT_SECRET=<32+ chars>    the project's JWT secret (AUTH_JWT_SECRET)
#   STORAGE_PORT=5000 (admin port +1), STORAGE_FILES=<dir for the file backend>
#
# It creates the database if needed, applies bootstrap.sql, then runs the server in the foreground
# connected as supabase_storage_admin, so its migrations create storage.* owned by that role.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

: "${SUPABASE_STORAGE_DIR:?set SUPABASE_STORAGE_DIR to a built supabase/storage checkout}"
: "${SUPABASE_TEST_DB_URL:?set SUPABASE_TEST_DB_URL (superuser URL of the lane database)}"
: "${SUPABASE_TEST_JWT_SECRET:?set SUPABASE_TEST_JWT_SECRET (32+ characters)}"
node_bin="${SUPABASE_STORAGE_NODE:-node}"
port="${STORAGE_PORT:-5000}"
files="${STORAGE_FILES:-$SUPABASE_STORAGE_DIR/../files}"

if [[ ! -f "$SUPABASE_STORAGE_DIR/dist/start/server.js" ]]; then
  echo "no $SUPABASE_STORAGE_DIR/dist/start/server.js: build the Storage server first (README)" >&2
  exit 1
fi
major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
if (( major < 24 )); then
  echo "the Storage server needs Node 24; $node_bin is $("$node_bin" --version) (set SUPABASE_STORAGE_NODE)" >&2
  exit 1
fi

(cd "$root" && npx tsx scripts/supabase-lane/hosted-db.ts bootstrap)

storage_url="$(node -e 'const u=new URL(process.argv[1]); u.username="supabase_storage_admin"; u.password=""; console.log(u.toString())' "$SUPABASE_TEST_DB_URL")"
mkdir -p "$files"

cd "$SUPABASE_STORAGE_DIR"
export NODE_ENV=development
export DATABASE_URL="$storage_url"
export DB_INSTALL_ROLES=false
export AUTH_JWT_SECRET="$SUPABASE_TEST_JWT_SECRET"
export AUTH_JWT_ALGORITHM=HS256
export STORAGE_BACKEND=file
export FILE_STORAGE_BACKEND_PATH="$files"
export STORAGE_S3_REGION=local
export STORAGE_S3_BUCKET=stub
export PG_QUEUE_ENABLE=false
export IS_MULTITENANT=false
export TENANT_ID=stub
export SERVER_HOST=127.0.0.1
export SERVER_PORT="$port"
export SERVER_ADMIN_PORT="$((port + 1))"
export UPLOAD_FILE_SIZE_LIMIT=5368709120
export TUS_URL_PATH=/upload/resumable
export REQUEST_ALLOW_X_FORWARDED_PATH=true
export LOG_LEVEL="${STORAGE_LOG_LEVEL:-info}"
exec "$node_bin" dist/start/server.js
