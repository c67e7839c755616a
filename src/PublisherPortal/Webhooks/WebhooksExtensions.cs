using Marketplace;
using Marketplace.Emulator;
using Marketplace.Webhooks;
using PublisherPortal.Data;
using PublisherPortal.Subscriptions;

namespace PublisherPortal.Webhooks;

public static class WebhooksExtensions
{
    /// <summary>
    /// The webhook endpoint's services, the stores it writes, and the background workers: inbox processor,
    /// acknowledgement sender, operation tracker and the scheduled reconciler. Token validation and worker settings
    /// come from the "Webhooks" section (demo mode fills it with the emulator's identities).
    /// </summary>
    public static IHostApplicationBuilder AddWebhooks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddWebhookServices(builder.Configuration.GetSection(WebhooksOptions.Section));
        return builder;
    }

    /// <summary>Everything <see cref="AddWebhooks"/> registers, for hosts built without the portal's Program (tests, benchmark).</summary>
    public static IServiceCollection AddWebhookServices(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<WebhooksOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();

        services.AddMarketplaceWebhookValidation(section);
        services.AddOptions<WebhookValidationOptions>().Configure<IServiceProvider>((validation, sp) =>
        {
            // Demo mode: the emulator stands in for login.microsoftonline.com and sts.windows.net, behind a
            // certificate it made itself — trust exactly that one for the key download.
            if (sp.GetService<RunningEmulator>() is { } emulator)
            {
                validation.PinnedServerCertificate ??= emulator.TlsCertificate;
                validation.V1IssuerInstances = [emulator.IdentityInstance];
            }
        });

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WebhookDeliveryStore>();
        services.TryAddSingleton<AcknowledgementStore>();
        services.TryAddSingleton<JobLeaseStore>();
        services.TryAddSingleton<ReconciliationRunStore>();
        services.TryAddSingleton<WorkSignals>();
        services.TryAddSingleton<WorkerIdentity>();
        services.AddWritableDatabaseCheck();   // the webhook endpoint answers 503 while writes would be lost
        services.TryAddSingleton<ISeatUsage, UnknownSeatUsage>();
        // The decider reads each offer's change rules (Offers feature) in the delivery's own transaction.
        services.TryAddSingleton<PublisherPortal.Offers.OfferPolicyStore>();
        services.TryAddSingleton<PublisherPortal.Subscriptions.ChangeRules>();
        services.TryAddSingleton<ChangeDecider>();
        services.TryAddSingleton<InboxWriter>();
        services.TryAddSingleton<WebhookInbox>();
        services.TryAddSingleton<Reconciler>();
        services.TryAddSingleton<RejectedDeliveryLimit>();
        services.AddRateLimiter(limiter => limiter.AddPolicy<string, RejectedDeliveryPolicy>(RejectedDeliveryLimit.PolicyName));

        // Workers are singletons too, so pages can call RetryAsync / CheckNowAsync on the running instance.
        services.AddWorker<WebhookProcessor>();
        services.AddWorker<AcknowledgementSender>();
        services.AddWorker<OperationTracker>();
        services.AddWorker<ReconciliationWorker>();
        services.AddWorker<DeliveryRetention>();
        return services;
    }

    private static void AddWorker<TWorker>(this IServiceCollection services) where TWorker : class, IHostedService
    {
        services.TryAddSingleton<TWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<TWorker>());
    }
}
