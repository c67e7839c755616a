using Marketplace;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PublisherPortal.Data;
using PublisherPortal.Metering;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Metering;

/// <summary>
/// The metering registration (AddMetering, MapMeteringEndpoints) on Kestrel over loopback, on a test's database and clock:
/// what the intake tests post to. Each test class brings its own settings (demo API keys, or real-mode Entra) and any
/// wiring of its own (and endpoints of its own: the entitlement API shares the intake's authentication); the worker
/// never runs here.
/// </summary>
public sealed class IntakeHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private IntakeHost(WebApplication app, HttpClient http) => (_app, Http) = (app, http);

    public HttpClient Http { get; }

    public static async Task<IntakeHost> StartAsync(
        TestDatabase db, IDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null,
        Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Metering:RunWorker"] = "false" });
        builder.Services.AddSingleton<TimeProvider>(db.Time);
        builder.Services.AddSingleton(db.Database);
        builder.Services.AddSingleton<SubscriptionStore>();
        builder.Services.AddSingleton<AuditLog>();
        // Never called here (the plans table answers), but MeteringPlans needs one.
        builder.Services.AddMarketplaceClient(o =>
        {
            o.BaseUri = new Uri("https://marketplace.invalid/api/");
            o.TenantId = "tenant";
            o.ClientId = "client";
            o.ClientSecret = "secret";
        });
        builder.AddMetering();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapMeteringEndpoints();
        map?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new IntakeHost(app, new HttpClient { BaseAddress = new Uri(address) });
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
    }
}
