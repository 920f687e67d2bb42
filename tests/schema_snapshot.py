"""A slim, reviewable snapshot of the migrated schema, read from the catalog.

One line per object of schemas payments and payments_private: every table
column (type, nullability, default or generation expression), constraint,
index, view (its definition's hash), type, and every function or procedure
(its signature, kind, security, settings and a hash of its body), and the
privileges of tables, columns and functions. A function
change is then a one-line diff, and the snapshot does not depend on which
pg_dump version is installed.

It is the same on PostgreSQL 15 to 18: three differences of newer servers are
normalised away -- NOT NULL listed as a constraint too (18; the column line
carries it), the MAINTAIN privilege ``m`` in table ACLs (17), and views
deparsed without table qualifiers (16; qualifiers are dropped before hashing).
db/schema.snapshot is the committed copy (tests/test_migrate.py compares;
PAYMENTS_UPDATE_SNAPSHOT=1 rewrites it).
"""

from __future__ import annotations

import psycopg

SCHEMAS = ("payments", "payments_private")

_QUERY = r"""
WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY(%(schemas)s))
SELECT line FROM (
    SELECT 'schema ' || ns.nspname AS line FROM ns
    UNION ALL
    SELECT format('column %%s.%%s.%%s %%s%%s%%s%%s', ns.nspname, c.relname, a.attname,
                  format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                  CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END,
                  CASE WHEN d.adbin IS NULL THEN ''
                       WHEN a.attgenerated = 's' THEN ' generated ' || md5(pg_get_expr(d.adbin, d.adrelid))
                       ELSE ' default ' || pg_get_expr(d.adbin, d.adrelid) END)
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relkind IN ('r', 'p')
    UNION ALL
    SELECT format('constraint %%s.%%s.%%s %%s', ns.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid))
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN ns ON ns.oid = c.relnamespace
     WHERE k.contype <> 'n'  -- PostgreSQL 18 lists NOT NULL as constraints; column lines have it
    UNION ALL
    SELECT format('index %%s.%%s %%s', ns.nspname, i.relname, pg_get_indexdef(i.oid))
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN ns ON ns.oid = i.relnamespace
    UNION ALL
    SELECT format('view %%s.%%s %%s', ns.nspname, c.relname,
                  md5(regexp_replace(pg_get_viewdef(c.oid), '\m[[:alpha:]_][[:alnum:]_]*\.', '', 'g')))
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('type %%s.%%s', ns.nspname, t.typname)
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
     WHERE t.typtype IN ('c', 'e', 'd') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid
                                                        AND c.relkind <> 'c')
    UNION ALL
    SELECT format('%%s %%s%%s%%s%%s body %%s acl %%s',
                  CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
                  p.oid::regprocedure::text,
                  CASE WHEN p.prokind = 'f' THEN ' returns ' || pg_get_function_result(p.oid) ELSE '' END,
                  CASE WHEN p.prosecdef THEN ' security definer' ELSE '' END,
                  coalesce(' set ' || array_to_string(p.proconfig, ','), ''),
                  md5(p.prosrc), md5(coalesce(array_to_string(p.proacl, ','), '')))
      FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    UNION ALL
    SELECT format('table-acl %%s.%%s %%s', ns.nspname, c.relname,
                  regexp_replace(coalesce(array_to_string(c.relacl, ','), ''),
                                 '=([^/,]*?)m\*?([^/,]*)/', '=\1\2/', 'g'))
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v')
    UNION ALL
    SELECT format('column-acl %%s.%%s.%%s %%s', ns.nspname, c.relname, a.attname,
                  array_to_string(a.attacl, ','))
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE a.attacl IS NOT NULL
) AS all_lines
ORDER BY line
"""


def snapshot(url: str) -> str:
    """The snapshot text of the database at `url`."""
    with psycopg.connect(url) as conn:
        lines = [row[0] for row in conn.execute(_QUERY, {"schemas": list(SCHEMAS)})]
    return "\n".join(lines) + "\n"
