using System.Data.Common;
using Dapper;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Data;

/// <summary>
/// Every migration exists twice, once per engine (docs/decisions/0002-sql-migrations-per-engine.md). Nothing but this
/// test keeps the twins in step: it applies all of them to a fresh SQLite file and a fresh PostgreSQL database and
/// compares what came out — tables, columns, types, nullability, primary keys and indexes.
/// </summary>
public sealed class MigrationParityTests
{
    [BothEnginesFact]
    [Trait("Category", "SqliteOnly")] // it uses both engines itself; once per CI run is enough
    public async Task Sqlite_and_postgres_migrations_build_the_same_schema()
    {
        await using var sqlite = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var postgres = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);

        var sqliteSchema = await SchemaShape.ReadAsync(sqlite.Database);
        var postgresSchema = await SchemaShape.ReadAsync(postgres.Database);

        Assert.NotEmpty(sqliteSchema);
        var differences = sqliteSchema.Except(postgresSchema).Select(f => "only on SQLite: " + f)
            .Concat(postgresSchema.Except(sqliteSchema).Select(f => "only on PostgreSQL: " + f))
            .Order(StringComparer.Ordinal)
            .ToList();
        // Compared as a whole, so a difference that goes away must leave this list too: it never outlives its reason.
        Assert.True(
            differences.SequenceEqual(KnownDifferences.Order(StringComparer.Ordinal)),
            "The two engines' migrations disagree (expected differences are listed in KnownDifferences):\n  "
                + string.Join("\n  ", differences));
    }

    /// <summary>Known differences, each with its reason (on purpose, or awaiting its fix). Anything else is a mistake in one twin.</summary>
    private static readonly string[] KnownDifferences =
    [
        // PostgreSQL compares text by the database's collation, so a prefix range over ids (the console's search by
        // part of a GUID) needs a byte-order copy of the key; SQLite compares bytes already and its primary key serves.
        "only on PostgreSQL: index on subscriptions (id)",
    ];
}

/// <summary>
/// A schema reduced to comparable facts, one string each. Types are mapped to SQLite's storage classes, the vocabulary
/// both engines share: PostgreSQL's timestamptz and uuid are text there (ISO-8601 strings and GUID strings), and its
/// boolean and bigint are integer. Index names are left out (SQLite names a UNIQUE constraint's index itself); what an
/// index covers, in which order and direction, whether it is unique and whether it is partial are compared.
/// </summary>
internal static class SchemaShape
{
    public static string Column(string table, string column, string type, bool notNull) =>
        $"column {table}.{column} {type}{(notNull ? " NOT NULL" : " NULL")}";

    public static string Index(string table, IEnumerable<string> columns, bool unique, bool partial) =>
        $"{(unique ? "unique " : "")}index on {table} ({string.Join(", ", columns)}){(partial ? " WHERE …" : "")}";

    public static async Task<HashSet<string>> ReadAsync(PortalDatabase database)
    {
        await using var connection = await database.OpenAsync();
        return database.IsSqlite ? await ReadSqliteAsync(connection) : await ReadPostgresAsync(connection);
    }

    private static async Task<HashSet<string>> ReadSqliteAsync(DbConnection connection)
    {
        var facts = new HashSet<string>(StringComparer.Ordinal);
        var tables = await connection.QueryAsync<string>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
        foreach (var table in tables)
        {
            facts.Add($"table {table}");
            var columns = (await connection.QueryAsync<(string Name, string Type, long NotNull, long Pk)>(
                "SELECT name, type, \"notnull\", pk FROM pragma_table_info(@table)", new { table })).AsList();
            foreach (var c in columns)
            {
                // A primary key column is never null on PostgreSQL; SQLite allows it unless told, and we never store one.
                facts.Add(Column(table, c.Name, SqliteType(c.Type), c.NotNull == 1 || c.Pk > 0));
            }

            facts.Add($"primary key of {table} ({string.Join(", ", columns.Where(c => c.Pk > 0).OrderBy(c => c.Pk).Select(c => c.Name))})");

            var indexes = await connection.QueryAsync<(string Name, long Unique, string Origin, long Partial)>(
                "SELECT name, \"unique\", origin, partial FROM pragma_index_list(@table)", new { table });
            foreach (var index in indexes.Where(i => i.Origin != "pk"))
            {
                var keys = await connection.QueryAsync<(string? Name, long Desc)>(
                    "SELECT name, \"desc\" FROM pragma_index_xinfo(@index) WHERE key = 1 ORDER BY seqno", new { index = index.Name });
                var keyColumns = keys.Select(k => (k.Name ?? "<expression>") + (k.Desc == 1 ? " DESC" : ""));
                facts.Add(Index(table, keyColumns, index.Unique == 1, index.Partial == 1));
            }
        }

        return facts;
    }

    private static async Task<HashSet<string>> ReadPostgresAsync(DbConnection connection)
    {
        var facts = new HashSet<string>(StringComparer.Ordinal);
        var columns = await connection.QueryAsync<(string Table, string Column, string Type, string Nullable)>("""
            SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
            """);
        foreach (var c in columns)
        {
            facts.Add($"table {c.Table}");
            facts.Add(Column(c.Table, c.Column, PostgresType(c.Type), c.Nullable == "NO"));
        }

        var primaryKeys = await connection.QueryAsync<(string Table, string Columns)>("""
            SELECT t.relname, string_agg(a.attname, ', ' ORDER BY k.ord)
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE i.indisprimary
            GROUP BY t.relname
            """);
        foreach (var (table, keyColumns) in primaryKeys)
        {
            facts.Add($"primary key of {table} ({keyColumns})");
        }

        // One row per key column of every index but the primary keys; expressions have attnum 0 and no attribute.
        var indexColumns = await connection.QueryAsync<
            (string Table, string Index, bool Unique, bool Partial, long Ord, string? Column, bool Desc)>("""
            SELECT t.relname, ix.relname, i.indisunique, i.indpred IS NOT NULL, k.ord, a.attname,
                   (i.indoption[k.ord - 1] & 1) = 1
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_class ix ON ix.oid = i.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum <> 0
            WHERE NOT i.indisprimary AND k.ord <= i.indnkeyatts
            """);
        foreach (var index in indexColumns.GroupBy(r => (r.Table, r.Index, r.Unique, r.Partial)))
        {
            var keys = index.OrderBy(r => r.Ord).Select(r => (r.Column ?? "<expression>") + (r.Desc ? " DESC" : ""));
            facts.Add(Index(index.Key.Table, keys, index.Key.Unique, index.Key.Partial));
        }

        return facts;
    }

    private static string SqliteType(string declared) => declared.ToUpperInvariant() switch
    {
        "TEXT" => "text",
        "INTEGER" => "integer",
        "REAL" => "real",
        "BLOB" => "blob",
        var other => "unmapped:" + other,
    };

    private static string PostgresType(string dataType) => dataType switch
    {
        "text" or "character varying" or "uuid" or "timestamp with time zone" or "jsonb" => "text",
        "integer" or "bigint" or "smallint" or "boolean" => "integer",
        "double precision" or "real" => "real",
        "bytea" => "blob",
        var other => "unmapped:" + other,
    };
}

/// <summary>Runs only where both engines are at hand: PORTAL_TEST_POSTGRES names a PostgreSQL server (always so in .ci/run).</summary>
public sealed class BothEnginesFactAttribute : FactAttribute
{
    public BothEnginesFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("PORTAL_TEST_POSTGRES")))
        {
            Skip = "SKIPPED: needs PostgreSQL beside SQLite — set PORTAL_TEST_POSTGRES to an admin connection string (or run .ci/run).";
        }
    }
}
