using System.ComponentModel.DataAnnotations;

namespace PublisherPortal.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Empty means the embedded default: a SQLite file under the content root's App_Data folder.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How often this instance proves it can durably write (WritableDatabase); the intake endpoints answer 503 at most
    /// this long after it no longer can.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Database:WriteProbeInterval must lie between 100 ms and 5 minutes.")]
    public TimeSpan WriteProbeInterval { get; set; } = TimeSpan.FromSeconds(5);
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

        // First of the hosted services, so it stops last: after every worker that claims rows has stopped.
        builder.Services.TryAddSingleton<PublisherPortal.Webhooks.WorkerIdentity>();
        builder.Services.AddHostedService<ClaimedWorkRelease>();
        builder.Services.AddOptions<DatabaseOptions>().Bind(builder.Configuration.GetSection(DatabaseOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddWritableDatabaseCheck();
        return builder;
    }

    /// <summary>The write probe behind readiness and the intake endpoints' 503 (<see cref="WritableDatabase"/>).</summary>
    public static IServiceCollection AddWritableDatabaseCheck(this IServiceCollection services)
    {
        services.TryAddSingleton<PublisherPortal.Webhooks.WorkerIdentity>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<DatabaseOptions>();
        if (services.Any(d => d.ServiceType == typeof(WritableDatabase)))
        {
            return services;
        }

        services.AddSingleton<WritableDatabase>();
        services.AddHostedService<WritableDatabaseMonitor>();
        return services;
    }

    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await app.Services.GetRequiredService<Migrator>().ApplyAsync(app.Lifetime.ApplicationStopping);
    }
}
