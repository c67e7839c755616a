using Marketplace.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>The start-up error for missing webhook validation settings names the keys the portal reads (Webhooks:*).</summary>
public sealed class WebhookSettingsNamesTests
{
    [Fact]
    public void Missing_webhook_validation_settings_are_named_by_the_Webhooks_keys_the_portal_reads()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhooks:ClockSkew"] = "00:20:00",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddWebhookServices(configuration.GetSection(WebhooksOptions.Section));
        using var provider = services.BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WebhookValidationOptions>>().Value);

        Assert.Contains(failure.Failures, f => f.StartsWith("Webhooks:PublisherTenantId is required", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.StartsWith("Webhooks:AudienceClientId is required", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.StartsWith("Webhooks:ClockSkew must lie between", StringComparison.Ordinal));
        Assert.DoesNotContain("Marketplace:Webhook", failure.Message);
    }
}
