#!/bin/sh
# docker-compose, first start of a fresh volume (docker-entrypoint-initdb.d,
# run by the superuser): the roles of a production-like install.
#
#   payments_owner     LOGIN, owns the database; `migrate` runs as it. No
#                      SUPERUSER, no CREATEROLE (as on a managed PostgreSQL).
#   payments_runner, payments_readonly, payments_operator, payments_bearer_codes
#                      NOLOGIN group roles (docs/SQL_API.md, "Roles"); migrate
#                      grants them their privileges.
#   payments_app       LOGIN, member of payments_runner: what `serve` connects as.
#
# The group roles are pre-created here, and the owner holds ADMIN OPTION on
# them, so that `migrate` needs no CREATEROLE (the migrations create them only
# when missing, and db/grants.sql grants payments_readonly to payments_operator).
# Passwords come from the secret files (never from this file). Every statement
# is idempotent: running the script again changes only the passwords.
set -eu

# the passwords are read by psql itself (\set with a backquoted cat), so they
# never appear on a command line (ps) or in this shell's variables
test -r "${PAYMENTS_OWNER_PASSWORD_FILE:?set PAYMENTS_OWNER_PASSWORD_FILE}"
test -r "${PAYMENTS_APP_PASSWORD_FILE:?set PAYMENTS_APP_PASSWORD_FILE}"
export PAYMENTS_OWNER_PASSWORD_FILE PAYMENTS_APP_PASSWORD_FILE
owner_role=${PAYMENTS_OWNER_ROLE:-payments_owner}
app_role=${PAYMENTS_APP_ROLE:-payments_app}

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
     -v owner_role="$owner_role" -v app_role="$app_role" \
     -v dbname="${POSTGRES_DB:-postgres}" <<'SQL'
\set owner_password `cat "$PAYMENTS_OWNER_PASSWORD_FILE"`
\set app_password `cat "$PAYMENTS_APP_PASSWORD_FILE"`
SELECT format('CREATE ROLE %I NOLOGIN', r)
  FROM unnest(ARRAY['payments_runner', 'payments_readonly', 'payments_operator',
                    'payments_bearer_codes']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) \gexec
GRANT payments_readonly TO payments_operator;

SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB', :'owner_role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :'owner_role') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'owner_role', :'owner_password') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'dbname', :'owner_role') \gexec
SELECT format('GRANT %I TO %I WITH ADMIN OPTION', r, :'owner_role')
  FROM unnest(ARRAY['payments_runner', 'payments_readonly', 'payments_operator',
                    'payments_bearer_codes']) AS r \gexec

SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB', :'app_role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :'app_role') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'app_role', :'app_password') \gexec
SELECT format('GRANT payments_runner TO %I', :'app_role') \gexec
SQL
