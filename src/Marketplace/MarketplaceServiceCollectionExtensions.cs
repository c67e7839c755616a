using Marketplace.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Marketplace;

public static class MarketplaceServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IFulfillmentClient"/>, <see cref="IMeteringClient"/>, the MSAL token provider and their HttpClients, with options bound
    /// from <paramref name="section"/> (normally the "Marketplace" section) and validated at start-up.
    /// <paramref name="configure"/> runs after binding, for what only code can set (the pinned certificate).
    /// </summary>
    public static IServiceCollection AddMarketplaceClient(
        this IServiceCollection services, IConfiguration section, Action<MarketplaceClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = services.AddOptions<MarketplaceClientOptions>().Bind(section);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return services.AddMarketplaceClientServices(options);
    }

    public static IServiceCollection AddMarketplaceClient(this IServiceCollection services, Action<MarketplaceClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddMarketplaceClientServices(services.AddOptions<MarketplaceClientOptions>().Configure(configure));
    }

    /// <summary>Registers <see cref="WebhookTokenValidator"/> with options bound from <paramref name="section"/> ("Marketplace:Webhook").</summary>
    public static IServiceCollection AddMarketplaceWebhookValidation(
        this IServiceCollection services, IConfiguration section, Action<WebhookValidationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = services.AddOptions<WebhookValidationOptions>().Bind(section);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // An operator fixes the key the message names: name the section these options were really bound from.
        var path = (section as IConfigurationSection)?.Path is { Length: > 0 } bound ? bound : WebhookValidationOptions.SectionName;
        return services.AddWebhookValidationServices(options, path);
    }

    public static IServiceCollection AddMarketplaceWebhookValidation(this IServiceCollection services, Action<WebhookValidationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddWebhookValidationServices(services.AddOptions<WebhookValidationOptions>().Configure(configure), WebhookValidationOptions.SectionName);
    }

    /// <summary>
    /// Makes <typeparamref name="TProvider"/> the one <see cref="IMarketplaceTokenProvider"/>, before or after
    /// <c>AddMarketplaceClient</c> alike: it replaces any provider registered so far, and <c>AddMarketplaceClient</c>
    /// adds the MSAL provider only when none is. The MSAL settings (TenantId, ClientId, credential) are then not required.
    /// </summary>
    public static IServiceCollection AddMarketplaceTokenProvider<TProvider>(this IServiceCollection services)
        where TProvider : class, IMarketplaceTokenProvider
    {
        services.RemoveAll<IMarketplaceTokenProvider>();
        services.AddSingleton<IMarketplaceTokenProvider, TProvider>();
        return services;
    }

    private static IServiceCollection AddMarketplaceClientServices(this IServiceCollection services, OptionsBuilder<MarketplaceClientOptions> options)
    {
        options.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MarketplaceClientOptions>>(new MsalSettingsValidation(services)));
        services.TryAddSingleton(TimeProvider.System);

        services.AddHttpClient(MarketplaceHttpClients.Identity)
            .ConfigurePrimaryHttpMessageHandler(sp => MarketplaceHttpClients.CreatePrimaryHandler(Settings(sp).PinnedServerCertificate));

        // A singleton: MSAL's token cache lives in the application object, so one object means one cached token.
        services.TryAddSingleton<IMarketplaceTokenProvider, MsalMarketplaceTokenProvider>();

        services.AddHttpClient<IFulfillmentClient, FulfillmentClient>(MarketplaceHttpClients.Fulfillment, (sp, http) =>
            {
                http.BaseAddress = MarketplaceClientOptions.WithTrailingSlash(Settings(sp).BaseUri);
                // The resilience pipeline owns every time limit; HttpClient's own would cut across retries.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(sp => MarketplaceHttpClients.CreatePrimaryHandler(Settings(sp).PinnedServerCertificate))
            .AddResilienceHandler("Marketplace", (pipeline, context) =>
                MarketplaceResilience.Configure(pipeline, Settings(context.ServiceProvider)));

        // The metering API shares the host, token and pipeline; its own client so a host can add handlers to one only.
        services.AddHttpClient<IMeteringClient, MeteringClient>(MarketplaceHttpClients.Metering, (sp, http) =>
            {
                http.BaseAddress = MarketplaceClientOptions.WithTrailingSlash(Settings(sp).BaseUri);
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(sp => MarketplaceHttpClients.CreatePrimaryHandler(Settings(sp).PinnedServerCertificate))
            .AddResilienceHandler("Marketplace.Metering", (pipeline, context) =>
                MarketplaceResilience.Configure(pipeline, Settings(context.ServiceProvider)));

        return services;
    }

    private static IServiceCollection AddWebhookValidationServices(
        this IServiceCollection services, OptionsBuilder<WebhookValidationOptions> options, string sectionPath)
    {
        services.AddSingleton<IValidateOptions<WebhookValidationOptions>>(new WebhookValidationOptionsValidator(sectionPath));
        options.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);

        services.AddHttpClient(MarketplaceHttpClients.WebhookMetadata)
            .ConfigurePrimaryHttpMessageHandler(sp => MarketplaceHttpClients.CreatePrimaryHandler(
                sp.GetRequiredService<IOptions<WebhookValidationOptions>>().Value.PinnedServerCertificate));

        // A singleton: it holds the tenant's signing keys and refreshes them itself.
        services.TryAddSingleton<WebhookTokenValidator>();
        return services;
    }

    private static MarketplaceClientOptions Settings(IServiceProvider services) =>
        services.GetRequiredService<IOptions<MarketplaceClientOptions>>().Value;

    /// <summary>
    /// Asks for the MSAL settings only when the MSAL provider is the one that will be resolved — the last
    /// registration, whichever order the host registered things in. Reads the service collection at validation time,
    /// once the container is built and the collection can no longer change.
    /// </summary>
    private sealed class MsalSettingsValidation(IServiceCollection services) : IValidateOptions<MarketplaceClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, MarketplaceClientOptions options)
        {
            var provider = services.LastOrDefault(d => d.ServiceType == typeof(IMarketplaceTokenProvider) && !d.IsKeyedService);
            if (provider is null || provider.ImplementationType != typeof(MsalMarketplaceTokenProvider))
            {
                return ValidateOptionsResult.Skip;
            }

            var missing = options.MissingMsalSettings().ToList();
            return missing.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(missing);
        }
    }
}
