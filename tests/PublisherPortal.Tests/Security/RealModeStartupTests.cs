using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using PublisherPortal.Demo;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Security;

/// <summary>Outside Development the portal is real unless the demo is asked for, and real mode without its settings does not start.</summary>
public sealed class RealModeStartupTests
{
    private static readonly string[] RequiredKeys =
    [
        "AzureAd:Instance", "AzureAd:TenantId", "AzureAd:ClientId", "AzureAd:ClientSecret",
        "Marketplace:TenantId", "Marketplace:ClientId", "Marketplace:ClientSecret",
        "Webhooks:PublisherTenantId", "Webhooks:AudienceClientId",
        "Metering:AllowedClientAppIds", "DataProtection:CertificatePath",
    ];

    [Fact]
    public async Task Outside_Development_the_portal_without_its_settings_refuses_to_start_and_names_each_missing_one()
    {
        await using var portal = new RealPortal(settings: new Dictionary<string, string>());

        var failure = Record.Exception(() => portal.Services);

        Assert.NotNull(failure);
        var message = string.Join("\n", Flatten(failure).Select(e => e.Message));
        Assert.Contains("Real mode cannot start", message);
        Assert.All(RequiredKeys, key => Assert.Contains(key, message));
        Assert.Contains("Portal:Mode=Demo", message);
    }

    [Theory]
    [InlineData("Production", null, PortalMode.Real)]
    [InlineData("Staging", null, PortalMode.Real)]
    [InlineData("Development", null, PortalMode.Demo)]
    [InlineData("Production", "Demo", PortalMode.Demo)]
    [InlineData("Production", "demo", PortalMode.Demo)]
    [InlineData("Development", "Real", PortalMode.Real)]
    public void The_demo_runs_in_Development_or_when_asked_for_and_real_mode_everywhere_else(string environment, string? configured, PortalMode expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Mode"] = configured })
            .Build();

        Assert.Equal(expected, DemoMode.Resolve(configuration, new HostingEnvironment { EnvironmentName = environment }));
    }

    [Fact]
    public void A_mode_that_is_neither_is_refused_by_name()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Mode"] = "Production" })
            .Build();

        var failure = Assert.Throws<InvalidOperationException>(() => DemoMode.Resolve(configuration, new HostingEnvironment { EnvironmentName = "Production" }));
        Assert.Contains("Portal:Mode is 'Production'", failure.Message);
    }

    [Theory]
    [InlineData("AzureAd:ClientId", "AzureAd:ClientId")]
    [InlineData("AzureAd:ClientSecret", "AzureAd:ClientSecret or AzureAd:ClientCertificates")]
    [InlineData("Marketplace:ClientSecret", "Marketplace:ClientSecret or Marketplace:CertificatePath")]
    [InlineData("Webhooks:AudienceClientId", "Webhooks:AudienceClientId")]
    [InlineData("Metering:AllowedClientAppIds:0", "Metering:AllowedClientAppIds")]
    [InlineData("DataProtection:CertificatePath", "DataProtection:CertificatePath")]
    public void Each_setting_is_named_when_it_alone_is_missing(string removed, string named)
    {
        var settings = RealModeTestSettings.All();
        settings.Remove(removed);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings!).Build();

        var missing = Assert.Single(RealModeSettings.Missing(configuration));
        Assert.StartsWith(named + " (", missing);
    }

    [Fact]
    public void The_complete_example_settings_miss_nothing()
    {
        Assert.Empty(RealModeSettings.Missing(new ConfigurationBuilder().AddInMemoryCollection(RealModeTestSettings.All()!).Build()));
    }

    [Fact]
    public void The_example_settings_file_has_every_setting_real_mode_requires()
    {
        var example = new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryRoot(), "appsettings.example.json")).Build();

        Assert.Empty(RealModeSettings.Missing(example));
    }

    [Fact]
    public void The_README_names_every_setting_real_mode_requires_in_its_configuration_reference_and_deployment_variables()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var reference = readme[readme.IndexOf("## Configuration reference", StringComparison.Ordinal)..readme.IndexOf("## Deployment", StringComparison.Ordinal)];
        var variables = readme[readme.IndexOf("### Several instances", StringComparison.Ordinal)..];

        foreach (var key in RealModeSettings.RequiredKeys.SelectMany(k => k.Split(" or ")))
        {
            var (section, name) = (key[..key.IndexOf(':')], key[(key.IndexOf(':') + 1)..]);
            Assert.True(reference.Contains($"`{key}`", StringComparison.Ordinal) || reference.Contains($"`{section}:*`", StringComparison.Ordinal) && reference.Contains($"`{name}`", StringComparison.Ordinal),
                $"{key} is not in the configuration reference");
        }

        foreach (var key in RealModeSettings.RequiredKeys.Select(k => k.Split(" or ")[0]))
        {
            Assert.Contains(key.Replace(":", "__", StringComparison.Ordinal), variables, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Real_mode_pages_carry_no_demo_marker_and_start_no_emulator()
    {
        await using var portal = new RealPortal();
        using var client = portal.ClientFor();

        using var home = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.DoesNotContain("demo-marker", await home.Content.ReadAsStringAsync());
        Assert.Null(portal.Services.GetService<Marketplace.Emulator.RunningEmulator>());
        Assert.DoesNotContain(portal.Services.GetServices<IHostedService>(), s => s.GetType().Namespace?.Contains("Demo", StringComparison.Ordinal) == true);
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "PublisherPortal.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("No PublisherPortal.sln above " + AppContext.BaseDirectory);
    }

    private static IEnumerable<Exception> Flatten(Exception e)
    {
        yield return e;
        if (e is AggregateException aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
            {
                yield return inner;
            }
        }
        else if (e.InnerException is { } inner)
        {
            foreach (var nested in Flatten(inner))
            {
                yield return nested;
            }
        }
    }
}
