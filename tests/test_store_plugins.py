"""sqlite-utils plugins installed for other tools never reach the archive's connection."""

from __future__ import annotations

import sqlite_utils.plugins

from archive.db import connect


class _Plugin:
    @sqlite_utils.hookimpl
    def prepare_connection(self, conn):
        conn.create_function("plugin_was_here", 0, lambda: 1)


def test_a_registered_sqlite_utils_plugin_does_not_touch_the_archive(tmp_path):
    plugin = _Plugin()
    sqlite_utils.plugins.pm.register(plugin)
    try:
        # The same plugin does reach a Database opened the default way: the test can fail.
        plain = sqlite_utils.Database(tmp_path / "other.db")
        assert plain.execute("SELECT plugin_was_here()").fetchone() == (1,)
        db = connect(tmp_path / "archive.db", write=True)
        names = {row[0] for row in db.execute("SELECT name FROM pragma_function_list")}
        assert "plugin_was_here" not in names
        db.conn.close()
        plain.conn.close()
    finally:
        sqlite_utils.plugins.pm.unregister(plugin)
