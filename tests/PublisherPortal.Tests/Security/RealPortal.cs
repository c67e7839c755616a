using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Security;

/// <summary>
/// The real Program, in the Production environment unless told otherwise, with the given settings (by default every
/// setting real mode requires, pointing nowhere). People sign in by request headers (X-Test-User, X-Test-Roles); the
/// client address can be set to play a request arriving through a proxy.
/// </summary>
public sealed class RealPortal(
    IReadOnlyDictionary<string, string>? settings = null,
    string environment = "Production",
    Action<IServiceCollection>? services = null,
    IPAddress? remoteAddress = null,
    bool signInByHeader = true) : WebApplicationFactory<Program>
{
    private readonly string _contentRoot = Path.Combine(Path.GetTempPath(), "portal-real", Guid.NewGuid().ToString("N"));

    public HttpClient ClientFor(string? person = null, params string[] roles)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (person is not null)
        {
            client.DefaultRequestHeaders.Add("X-Test-User", person);
            client.DefaultRequestHeaders.Add("X-Test-Roles", string.Join(',', roles));
        }

        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        Directory.CreateDirectory(_contentRoot);
        builder.UseContentRoot(_contentRoot);
        builder.UseEnvironment(environment);
        foreach (var (key, value) in settings ?? RealModeTestSettings.All())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(l => l.ClearProviders());
        builder.ConfigureTestServices(s =>
        {
            services?.Invoke(s);
            if (remoteAddress is not null)
            {
                s.AddSingleton<IStartupFilter>(new RemoteAddress(remoteAddress));
            }

            if (!signInByHeader)
            {
                return;   // the real OpenID Connect challenge
            }

            HeaderSignIn.Replace(s);
        });
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_contentRoot, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }

    /// <summary>The test server has no client address; a proxy in front of the portal would be this one.</summary>
    private sealed class RemoteAddress(IPAddress address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = address;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
