using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Marketplace.Tests.Client;

public sealed class MarketplaceClientOptionsTests
{
    private static MarketplaceClientOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddMarketplaceClient(configuration.GetSection(MarketplaceClientOptions.SectionName));
        return services.BuildServiceProvider().GetRequiredService<IOptions<MarketplaceClientOptions>>().Value;
    }

    [Fact]
    public void Settings_bind_from_the_Marketplace_section_with_defaults_for_the_rest()
    {
        var options = Bind(new()
        {
            ["Marketplace:TenantId"] = "tenant-1",
            ["Marketplace:ClientId"] = "client-1",
            ["Marketplace:ClientSecret"] = "s3cret",
            ["Marketplace:DisableInstanceDiscovery"] = "true",
        });

        Assert.Equal(("tenant-1", "client-1", true), (options.TenantId, options.ClientId, options.DisableInstanceDiscovery));
        Assert.Equal(new Uri("https://marketplaceapi.microsoft.com/api/"), options.BaseUri);
        Assert.Equal(("2018-08-31", "20e940b3-4c77-4b0b-9a53-9e16a1b010a7"), (options.ApiVersion, options.MarketplaceAppId));
    }

    [Fact]
    public void A_missing_tenant_id_names_itself()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind(new()
        {
            ["Marketplace:ClientId"] = "client-1",
            ["Marketplace:ClientSecret"] = "s3cret",
        }));

        Assert.Contains("Marketplace:TenantId", failure.Message);
    }

    [Fact]
    public void A_missing_credential_names_both_ways_to_provide_one()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind(new()
        {
            ["Marketplace:TenantId"] = "tenant-1",
            ["Marketplace:ClientId"] = "client-1",
        }));

        Assert.Contains("Marketplace:ClientSecret or Marketplace:CertificatePath", failure.Message);
    }

    [Fact]
    public void An_http_identity_instance_is_refused_because_MSAL_would_refuse_it()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind(new()
        {
            ["Marketplace:TenantId"] = "tenant-1",
            ["Marketplace:ClientId"] = "client-1",
            ["Marketplace:ClientSecret"] = "s3cret",
            ["Marketplace:Instance"] = "http://127.0.0.1:5000/",
        }));

        Assert.Contains("Marketplace:Instance", failure.Message);
    }
}
