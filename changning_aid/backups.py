"""Backups of the PostgreSQL database: a dump of it, and its restore into an empty database.

`make backup` (`manage.py backup_database`) writes `pg_dump`'s custom format, the whole
database in one consistent snapshot: every table (the audit trail's included), the
triggers that keep the audit trail and the sequences. `make restore FILE=...`
(`manage.py restore_database`) loads such a file into the database of DATABASE_URL, which
must be empty, in one transaction: a restore that fails leaves the database empty again, and
a restore can never mix a backup into live data. Owners and grants are not restored, so a
backup can be loaded under another database role: the restoring role owns what it loads.

Both read the connection from the settings (DATABASE_URL, from the environment or `.env`),
as the application does; the password goes to `pg_dump`/`pg_restore` through the
environment, never on the command line. Attachments (MEDIA_ROOT or MEDIA_STORAGE) are
files, not rows: they are backed up with the storage, apart from this.

A dump holds everything the application knows, ID numbers encrypted but names, addresses
and phones in clear: the files are written readable by their owner only.
"""

import os
import shutil
import subprocess
from pathlib import Path

from django.db import DatabaseError, connections
from django.db.backends.postgresql.client import DatabaseClient
from django.utils import timezone
from django.utils.translation import gettext as _

# Relations (tables, views, sequences...) and functions that make a database not empty; an
# extension's own objects (installed with the database's template) do not count.
USER_OBJECTS_SQL = """
SELECT n.nspname || '.' || c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
UNION ALL
SELECT n.nspname || '.' || p.proname || '()'
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  )
ORDER BY 1
"""


class BackupError(Exception):
    """A backup or restore that cannot be done; the message (Chinese) says why and what to do."""


def _database(using):
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise BackupError(
            _("备份和恢复只支持 PostgreSQL:请把 DATABASE_URL 设为 postgres://用户@主机:5432/库名。")
        )
    return connection.settings_dict


def _tool(name):
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _("找不到 %(name)s:请安装 postgresql-client(版本不低于数据库服务器的版本)。")
            % {"name": name}
        )
    return path


def _connection_arguments(settings_dict):
    """`-h -p -U -d` for the database, and the environment with its password and TLS files."""
    arguments = []
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER"), ("-d", "NAME")):
        if settings_dict.get(key):
            arguments += [flag, str(settings_dict[key])]
    _args, extra = DatabaseClient.settings_to_cmd_args_env(settings_dict, [])
    return arguments, {**os.environ, **(extra or {})}


def _run(command, env):
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or result.stdout.strip() or str(result.returncode))
    return result


def backup_file_name(database_name, when=None):
    """`<database>-<YYYYmmdd-HHMMSS>.dump`, in Asia/Shanghai time."""
    when = timezone.localtime(when or timezone.now())
    return f"{database_name}-{when:%Y%m%d-%H%M%S}.dump"


def dump(folder, *, using="default"):
    """Write a dump of the database into `folder` (made if missing); return its path.

    Written under a temporary name and renamed once complete, so that a file with the
    final name is always a whole dump.
    """
    settings_dict = _database(using)
    pg_dump = _tool("pg_dump")
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / backup_file_name(settings_dict["NAME"])
    partial = path.with_name(path.name + ".partial")
    arguments, env = _connection_arguments(settings_dict)
    try:
        _run([pg_dump, "--format=custom", "--file", str(partial), *arguments], env)
        os.chmod(partial, 0o600)
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def user_objects(using="default"):
    """The names of the tables, sequences, views and functions the database holds."""
    with connections[using].cursor() as cursor:
        cursor.execute(USER_OBJECTS_SQL)
        return [row[0] for row in cursor.fetchall()]


def restore(path, *, using="default"):
    """Load the dump at `path` into the database, which must be empty; one transaction."""
    settings_dict = _database(using)
    pg_restore = _tool("pg_restore")
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("找不到备份文件 %(path)s。") % {"path": path})
    arguments, env = _connection_arguments(settings_dict)
    try:
        _run([pg_restore, "--list", str(path)], env)
    except BackupError as error:
        raise BackupError(
            _("%(path)s 不是 pg_dump 的备份文件(make backup 写出的 .dump 文件)。") % {"path": path}
        ) from error
    try:
        found = user_objects(using)
    except DatabaseError as error:
        raise BackupError(
            _("无法连接数据库 %(name)s(%(error)s):请先用 createdb 建立一个空数据库。")
            % {"name": settings_dict["NAME"], "error": str(error).strip()}
        ) from error
    finally:
        # pg_restore needs no company in the database; nor does a server with few slots.
        connections[using].close()
    if found:
        shown = "、".join(found[:3]) + (" 等" if len(found) > 3 else "")
        raise BackupError(
            _(
                "数据库 %(name)s 不是空的(已有 %(count)d 个表、序列或函数,如 %(shown)s),"
                "恢复只能写入空数据库,以免与现有数据混在一起。请新建一个空数据库"
                "(createdb 新库名),把 DATABASE_URL 指向它,再运行 make restore。"
            )
            % {"name": settings_dict["NAME"], "count": len(found), "shown": shown}
        )
    _run(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *arguments,
            str(path),
        ],
        env,
    )
