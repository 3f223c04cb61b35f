# On PostgreSQL, the stored record (raw) and the parsed fields (attrs) are compressed with
# LZ4 instead of the default pglz when the server supports it. Most records are large enough
# to be compressed on the way in, and pglz spends about as long on a record as three indexes
# do; LZ4 takes a tenth of that for the same size. Rows already stored keep pglz: both read
# back the same. Only the table's own columns change here; each month's partition is set
# too, since PostgreSQL 15 does not pass the change on to existing partitions, and months
# made later copy it from the parent (partitions.py).

from django.db import migrations

COLUMNS = ("raw", "attrs")


def _set(method: str):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'ingest_event'::regclass"
            )
            tables = ["ingest_event", *(name for (name,) in cursor.fetchall())]
            columns = ", ".join(f"ALTER COLUMN {qn(c)} SET COMPRESSION {method}" for c in COLUMNS)
            # A server built without LZ4 refuses the method; it keeps pglz then.
            for table in tables:
                cursor.execute(
                    "DO $$ BEGIN "
                    f"ALTER TABLE ONLY {qn(table)} {columns}; "
                    "EXCEPTION WHEN feature_not_supported THEN NULL; END $$"
                )

    return run


class Migration(migrations.Migration):
    dependencies = [("ingest", "0008_attribution_table")]

    operations = [migrations.RunPython(_set("lz4"), _set("default"))]
