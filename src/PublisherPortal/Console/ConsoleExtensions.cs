using PublisherPortal.Data;

namespace PublisherPortal.Console;

public static class ConsoleExtensions
{
    /// <summary>
    /// The operator console: read-only queries the pages use (each with its SQL beside it), the plan catalogue,
    /// and <see cref="OperatorActions"/>, the one way the console changes anything (it checks the Operator role itself).
    /// Relies on AddPortalData, AddSubscriptions and AddWebhooks for the stores, the change service and the workers.
    /// </summary>
    public static IHostApplicationBuilder AddConsole(this IHostApplicationBuilder builder)
    {
        builder.Services.AddConsoleServices();
        return builder;
    }

    /// <summary>Everything <see cref="AddConsole"/> registers, for hosts built without the portal's Program (tests, benchmark).</summary>
    public static IServiceCollection AddConsoleServices(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ConsoleSubscriptionQuery>();
        services.TryAddSingleton<WebhookLogQuery>();
        services.TryAddSingleton<SubscriptionDossierQuery>();
        services.TryAddSingleton<SuspensionQuery>();
        services.TryAddSingleton<StuckWorkQuery>();
        services.TryAddSingleton<PlanStore>();
        services.TryAddSingleton<PlanCatalog>();
        services.TryAddSingleton<DeliveryRequeue>();
        services.TryAddScoped<OperatorActions>();
        return services;
    }
}
