using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Marketplace.Emulator.Control;
using Marketplace.Emulator.Fulfillment;
using Marketplace.Emulator.Identity;
using Marketplace.Emulator.Metering;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Marketplace.Emulator;

/// <summary>Starts the emulator on its own Kestrel: https for the API and identity (MSAL insists), http for browsers.</summary>
public static class EmulatorHost
{
    public static async Task<RunningEmulator> StartAsync(EmulatorOptions options, TimeProvider? time = null, ILoggerFactory? logs = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        time ??= TimeProvider.System;
        logs ??= NullLoggerFactory.Instance;
        if (options.DataDirectory is { } dataDirectory)
        {
            Directory.CreateDirectory(dataDirectory);
        }

        var certificate = EmulatorKeys.LoadOrCreateTlsCertificate(options.DataDirectory, options.ListenAddress, time);
        var signingKey = EmulatorKeys.LoadOrCreateSigningKey(options.DataDirectory);
        var addresses = new EmulatorAddresses();
        var tokens = new EmulatorTokens(signingKey, options, addresses, time);
        var book = new SubscriptionBook(options, time, logs.CreateLogger("Marketplace.Emulator.Subscriptions"));
        var webhooks = new WebhookDispatcher(book, tokens, options, time, logs.CreateLogger("Marketplace.Emulator.Webhooks"));
        var usage = new UsageLedger(book, options, time, logs.CreateLogger("Marketplace.Emulator.Metering"));
        var simulator = new MarketplaceSimulator(book, webhooks, tokens, options, usage);
        var timers = new OperationTimers(book, time);

        // An empty builder: no appsettings, no ASPNETCORE_URLS, nothing of the hosting app leaks in when the portal or a
        // test starts the emulator inside its own process.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSingleton(logs);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddRouting();
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(tokens);
        builder.Services.AddSingleton(options.Faults);

        // Not the default console lifetime: inside the portal it would catch SIGTERM for a host nobody stops (the
        // portal's own lifetime does), and in the standalone Program it kept the process alive after SIGTERM. The
        // owner stops the emulator by disposing it; open connections get a short grace, not the default 30 s.
        builder.Services.AddSingleton<IHostLifetime, OwnerControlledLifetime>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(3));
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().ConfigureKestrel(kestrel =>
        {
            var address = IPAddress.Parse(options.ListenAddress);
            kestrel.Listen(address, options.HttpsPort, listen => listen.UseHttps(certificate));
            kestrel.Listen(address, options.HttpPort);
        });

        var app = builder.Build();
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"), api => api.UseMiddleware<ApiGate>());
        app.MapFulfillmentEndpoints(book, options);
        app.MapMeteringEndpoints(usage);
        app.MapIdentityEndpoints(options, tokens, addresses, time);
        app.MapControlEndpoints(simulator, options);

        await app.StartAsync(ct);

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        addresses.HttpsBase = BaseUri(bound, "https", options.ListenAddress);
        addresses.HttpBase = BaseUri(bound, "http", options.ListenAddress);
        book.DueTimeSet += timers.Schedule;
        timers.ScheduleAll(book.PendingDueTimes());
        return new RunningEmulator(app, options, certificate, addresses, simulator, webhooks, timers);
    }

    private static Uri BaseUri(ICollection<string> bound, string scheme, string listenAddress)
    {
        var address = bound.First(a => a.StartsWith(scheme + "://", StringComparison.OrdinalIgnoreCase));
        var port = new Uri(address).Port;
        // Wildcard listeners are reached through loopback; the certificate names 127.0.0.1 and localhost.
        var host = IPAddress.TryParse(listenAddress, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
            ? "127.0.0.1"
            : ip?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{listenAddress}]" : listenAddress;
        return new Uri($"{scheme}://{host}:{port}/");
    }
}

/// <summary>A host lifetime that waits for nothing and listens to no signal: the emulator's owner starts and stops it.</summary>
internal sealed class OwnerControlledLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The bound addresses, known only once Kestrel has started; issuers and metadata are built from them.</summary>
internal sealed class EmulatorAddresses
{
    public Uri HttpsBase { get; set; } = new("https://127.0.0.1/");
    public Uri HttpBase { get; set; } = new("http://127.0.0.1/");
}

/// <summary>A started emulator: where it listens, the certificate to trust, and Microsoft's side to drive.</summary>
public sealed class RunningEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly WebhookDispatcher _webhooks;
    private readonly OperationTimers _timers;

    internal RunningEmulator(WebApplication app, EmulatorOptions options, X509Certificate2 certificate, EmulatorAddresses addresses,
        MarketplaceSimulator simulator, WebhookDispatcher webhooks, OperationTimers timers)
    {
        _app = app;
        _webhooks = webhooks;
        _timers = timers;
        Options = options;
        TlsCertificate = certificate;
        HttpsBaseUri = addresses.HttpsBase;
        HttpBaseUri = addresses.HttpBase;
        Simulator = simulator;
    }

    /// <summary>https://127.0.0.1:p/</summary>
    public Uri HttpsBaseUri { get; }

    /// <summary>http://127.0.0.1:q/ — the same routes, for browsers that should see no certificate warning.</summary>
    public Uri HttpBaseUri { get; }

    /// <summary>https://127.0.0.1:p/api/ — fulfillment, operations and metering.</summary>
    public Uri ApiBaseUri => new(HttpsBaseUri, "api/");

    /// <summary>https://127.0.0.1:p/ — Entra-like: {instance}{tenant}/v2.0/.well-known/openid-configuration.</summary>
    public Uri IdentityInstance => HttpsBaseUri;

    /// <summary>The one certificate to trust for the https endpoint.</summary>
    public X509Certificate2 TlsCertificate { get; }

    public EmulatorOptions Options { get; }

    public MarketplaceSimulator Simulator { get; }

    /// <summary>Mutable at runtime: tests turn failures on and off.</summary>
    public FaultOptions Faults => Options.Faults;

    /// <summary>A handler that accepts exactly <see cref="TlsCertificate"/> and nothing else — no machine-wide trust needed.</summary>
    public HttpMessageHandler CreateTrustingHandler() => CreateHandlerTrusting(TlsCertificate);

    /// <summary>The same for a certificate known from elsewhere (e.g. the portal's PinnedServerCertificate).</summary>
    public static SocketsHttpHandler CreateHandlerTrusting(X509Certificate2 certificate)
    {
        var expected = certificate.RawData;
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                    presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(expected),
            },
        };
    }

    public async ValueTask DisposeAsync()
    {
        _timers.Dispose();
        await _webhooks.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// Wakes the book when an operation's moment comes (publisher's change done, Azure change auto-accepted), on the
/// emulator's TimeProvider so a FakeTimeProvider drives it. Timers are kept referenced until they fire.
/// </summary>
internal sealed class OperationTimers(SubscriptionBook book, TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, ITimer> _timers = [];
    private bool _disposed;

    public void Schedule(Guid operationId, DateTimeOffset dueAt)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var wait = dueAt - time.GetUtcNow();
            _timers.Remove(operationId, out var previous);
            previous?.Dispose();
            _timers[operationId] = time.CreateTimer(_ => Fire(operationId), null, wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan);
        }
    }

    public void ScheduleAll(IEnumerable<(Guid OperationId, DateTimeOffset DueAt)> due)
    {
        foreach (var (operationId, dueAt) in due)
        {
            Schedule(operationId, dueAt);
        }
    }

    private void Fire(Guid operationId)
    {
        book.Settle();
        lock (_gate)
        {
            if (_timers.Remove(operationId, out var timer))
            {
                timer.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var timer in _timers.Values)
            {
                timer.Dispose();
            }

            _timers.Clear();
        }
    }
}
