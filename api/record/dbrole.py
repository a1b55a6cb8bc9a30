"""The PostgreSQL role the service runs as: what it may do to the audit log, and how to make one.

The append-only triggers on ``audit_events`` stop the service's own SQL. They do not stop a
role that may switch them off: a superuser (``SET session_replication_role = replica`` skips
every trigger, ``ALTER TABLE ... DISABLE TRIGGER``), or the table's owner (may disable or drop
the triggers). So the service runs as a role that is neither, with ``SELECT`` and ``INSERT``
on the audit table and no ``UPDATE``, ``DELETE`` or ``TRUNCATE``; the owner role runs the
migrations. :func:`grant_service_role` makes (or brings up to date) such a role;
:func:`role_report` says what the connected role could do. SQLite has no roles: there the
file's permissions are the boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, text

AUDIT_TABLE = "audit_events"
APPEND_ONLY_TABLES = (AUDIT_TABLE,)
"""Tables the service may read and add to, never change."""
READ_ONLY_TABLES = ("alembic_version",)
"""Tables the service may only read (the schema version belongs to the migrations)."""
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(ValueError):
    """A role that cannot be made or used as the service's; the message says why."""


@dataclass(frozen=True)
class RoleReport:
    """What the connected role could do to the audit log."""

    name: str
    superuser: bool
    acts_as_owner: bool
    """Owns ``audit_events`` or is a member of the role that does (may drop its triggers)."""
    can_update: bool
    can_delete: bool
    can_truncate: bool
    can_skip_triggers: bool
    """May ``SET session_replication_role`` (superusers, or granted on PostgreSQL 15+)."""

    @property
    def can_change_audit_events(self) -> bool:
        """Whether this role could alter or remove audit events."""
        return any((self.superuser, self.acts_as_owner, self.can_update, self.can_delete,
                    self.can_truncate, self.can_skip_triggers))  # fmt: skip

    def problems(self) -> list[str]:
        """Each way this role could get past the audit log's append-only rules."""
        found = []
        if self.superuser:
            found.append("it is a superuser (it can skip every trigger)")
        if self.acts_as_owner:
            found.append(f"it owns {AUDIT_TABLE} (it can disable or drop the triggers)")
        held = {"UPDATE": self.can_update, "DELETE": self.can_delete,
                "TRUNCATE": self.can_truncate}  # fmt: skip
        granted = [name for name, has in held.items() if has]
        if granted and not (self.superuser or self.acts_as_owner):
            found.append(f"it holds {', '.join(granted)} on {AUDIT_TABLE}")
        if self.can_skip_triggers and not self.superuser:
            found.append("it may SET session_replication_role (which skips triggers)")
        return found

    def detail(self) -> str:
        """One sentence for people."""
        problems = self.problems()
        if not problems:
            return (
                f"database role {self.name} is not a superuser, does not own {AUDIT_TABLE} and "
                "may only read and add audit events"
            )
        return f"database role {self.name} can change the audit log: " + "; ".join(problems)


_REPORT = text(
    "SELECT current_user AS name, r.rolsuper AS superuser, "
    "pg_has_role(current_user, c.relowner, 'USAGE') AS acts_as_owner, "
    "has_table_privilege(c.oid, 'UPDATE') AS can_update, "
    "has_table_privilege(c.oid, 'DELETE') AS can_delete, "
    "has_table_privilege(c.oid, 'TRUNCATE') AS can_truncate, "
    "CASE WHEN current_setting('server_version_num')::int >= 150000 "
    "THEN r.rolsuper OR has_parameter_privilege('session_replication_role', 'SET') "
    "ELSE r.rolsuper END AS can_skip_triggers "
    "FROM pg_roles r CROSS JOIN pg_class c "
    "WHERE r.rolname = current_user AND c.oid = to_regclass(:table)"
)


def role_report(connection: Connection) -> RoleReport | None:
    """What the connected role could do to the audit log (``None`` on SQLite).

    Raises :class:`RoleError` when the schema has no audit table yet.
    """
    if connection.dialect.name != "postgresql":
        return None
    row = connection.execute(_REPORT, {"table": AUDIT_TABLE}).mappings().first()
    if row is None:
        raise RoleError(f"the database has no {AUDIT_TABLE} table yet: run `foodmatch db upgrade`")
    return RoleReport(**dict(row))


def _driver(connection: Connection) -> Any:
    """The psycopg connection under ``connection`` (same transaction)."""
    return connection.connection.driver_connection


def grant_service_role(connection: Connection, role: str, password: str | None) -> list[str]:
    """Create ``role`` (or bring it up to date) with only what the service needs.

    Run as the owner of the tables (with CREATEROLE) in one transaction, after every
    ``foodmatch db upgrade`` (new tables need their grants). Returns the statements run, the
    password shown as ``'…'``.
    """
    if connection.dialect.name != "postgresql":
        raise RoleError("database roles are a PostgreSQL feature; SQLite has none")
    if not ROLE_NAME.match(role):
        raise RoleError(
            f"role name {role!r}: expected lower-case letters, digits and _, starting with a "
            "letter or _ (at most 63)"
        )
    current = connection.execute(text("SELECT current_user")).scalar_one()
    if role == current:
        raise RoleError(f"{role} is the role running this command (the owner): choose another")
    existing = connection.execute(
        text(
            "SELECT r.rolsuper, pg_has_role(r.oid, c.relowner, 'MEMBER') "
            "FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass(:table) "
            "WHERE r.rolname = :role"
        ),
        {"table": AUDIT_TABLE, "role": role},
    ).first()
    if connection.execute(text("SELECT to_regclass(:t)"), {"t": AUDIT_TABLE}).scalar() is None:
        raise RoleError(f"the database has no {AUDIT_TABLE} table yet: run `foodmatch db upgrade`")
    if existing is not None and existing[0]:
        raise RoleError(f"{role} is a superuser; the service needs a role that is not")
    if existing is not None and existing[1]:
        raise RoleError(f"{role} is (a member of) the owner of {AUDIT_TABLE}: choose another role")
    name = sql.Identifier(role)
    attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
    verb = sql.SQL("ALTER ROLE" if existing is not None else "CREATE ROLE")
    first = sql.SQL("{} {} {}").format(verb, name, attributes)
    shown = first
    if password is not None:
        first = sql.SQL("{} PASSWORD {}").format(first, sql.Literal(password))
        shown = sql.SQL("{} PASSWORD '…'").format(shown)
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    in_schema = sql.Identifier(schema)
    statements: list[sql.Composable] = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), name),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(in_schema, name),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(in_schema, name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            in_schema, name
        ),
        *(
            sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(
                sql.Identifier(schema, table), name
            )
            for table in APPEND_ONLY_TABLES
        ),
        *(
            sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}").format(
                sql.Identifier(schema, table), name
            )
            for table in READ_ONLY_TABLES
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(in_schema, name),
        sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {} TO {}").format(in_schema, name),
    ]
    driver = _driver(connection)
    driver.execute(first)  # composed client-side: no parameter parsing of the password
    done = [shown.as_string(driver)]
    for statement in statements:
        driver.execute(statement)
        done.append(statement.as_string(driver))
    return done
