using PublisherPortal.Data;

namespace PublisherPortal.Tests.Support;

/// <summary>A test of something only SQLite has (a database file on disk); skipped, saying so, in the PostgreSQL run.</summary>
public sealed class SqliteOnlyFactAttribute : FactAttribute
{
    public SqliteOnlyFactAttribute()
    {
        if (TestDatabase.Provider != DatabaseProvider.Sqlite)
        {
            Skip = "SQLite only: PostgreSQL keeps no database file a test could replace.";
        }
    }
}
