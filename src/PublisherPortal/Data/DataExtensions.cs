using System.ComponentModel.DataAnnotations;

namespace PublisherPortal.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Empty means the embedded default: a SQLite file under the content root's App_Data folder.</summary>
    public string? ConnectionString { get; set; }
}

public static class DataExtensions
{
    public static IHostApplicationBuilder AddPortalData(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var connectionString = options.ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (options.Provider != DatabaseProvider.Sqlite)
            {
                throw new ValidationException($"{DatabaseOptions.Section}:ConnectionString is required for {options.Provider}.");
            }

            var folder = Path.Combine(builder.Environment.ContentRootPath, "App_Data");
            Directory.CreateDirectory(folder);
            connectionString = $"Data Source={Path.Combine(folder, "portal.db")}";
        }

        builder.Services.AddSingleton(new PortalDatabase(options.Provider, connectionString));
        builder.Services.AddSingleton<Migrator>();
        // Every registered follower hears of every history event (notifications, entitlement events).
        builder.Services.AddSingleton(sp => new SubscriptionStore(
            sp.GetRequiredService<PortalDatabase>(), sp.GetRequiredService<TimeProvider>(),
            SubscriptionEventFollowers.From(sp.GetServices<ISubscriptionEventFollower>())));
        builder.Services.AddSingleton<OperationStore>();
        builder.Services.AddSingleton<PlanStore>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        return builder;
    }

    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await app.Services.GetRequiredService<Migrator>().ApplyAsync(app.Lifetime.ApplicationStopping);
    }
}
