using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PublisherPortal.Health;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Health;

/// <summary>Alerts go to an incoming webhook on loopback once per change of state, however often the checks run.</summary>
public sealed class HealthAlertTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private AlertReceiver _receiver = null!;
    private readonly ScriptedCheck _check = new();
    private readonly CapturingLogger<HealthAlerts> _log = new();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _receiver = await AlertReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_check_turning_failing_alerts_once_and_its_recovery_alerts_once()
    {
        var health = Health();

        await RunAsync(health, HealthState.Healthy, "all good");
        await RunAsync(health, HealthState.Failing, "3 deliveries refused");
        await RunAsync(health, HealthState.Failing, "4 deliveries refused");
        await RunAsync(health, HealthState.Failing, "5 deliveries refused");
        await RunAsync(health, HealthState.Healthy, "last accepted 1 min ago");
        await RunAsync(health, HealthState.Healthy, "last accepted 2 min ago");

        Assert.Collection(_receiver.Texts,
            t => Assert.Contains("Webhooks is FAILING — 3 deliveries refused", t),
            t => Assert.Contains("Webhooks recovered (healthy) — last accepted 1 min ago", t));
        Assert.Single(_log.Entries, e => e.Level == LogLevel.Error);
    }

    [Fact]
    public async Task A_warning_is_logged_but_wakes_nobody()
    {
        var health = Health();

        await RunAsync(health, HealthState.Warning, "oldest 11 s against the 10 s window");
        await RunAsync(health, HealthState.Warning, "oldest 12 s against the 10 s window");

        Assert.Empty(_receiver.Texts);
        Assert.Single(_log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("turned warning"));
    }

    [Fact]
    public async Task An_alert_the_receiver_refused_is_sent_again_on_the_next_run_and_then_not_again()
    {
        var health = Health();
        _receiver.Refuse = true;
        await RunAsync(health, HealthState.Failing, "no token");
        _receiver.Refuse = false;
        await RunAsync(health, HealthState.Failing, "no token");
        await RunAsync(health, HealthState.Failing, "no token");

        Assert.Equal(2, _receiver.Attempts);
        Assert.Single(_receiver.Texts);
        // Incoming-webhook URLs carry their own secret: the log says what failed, never where.
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("refused by the alert webhook"));
        Assert.DoesNotContain(_log.Entries, e => e.Message.Contains("s3cr3t"));
    }

    [Fact]
    public async Task Two_instances_running_the_same_change_alert_once()
    {
        var first = Health();
        var second = Health();
        _check.Next = (HealthState.Failing, "no token");

        await Task.WhenAll(first.RunChecksAsync(), second.RunChecksAsync());

        Assert.Single(_receiver.Texts);
    }

    private async Task RunAsync(IntegrationHealth health, HealthState state, string figure)
    {
        _check.Next = (state, figure);
        await health.RunChecksAsync();
        _db.Time.Advance(TimeSpan.FromMinutes(1));
    }

    private IntegrationHealth Health()
    {
        var options = HealthData.Options(o => o.AlertWebhookUrl = _receiver.Url);
        var http = new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
        var alerts = new HealthAlerts(http, options, _log);
        var selfTest = new WebhookSelfTest(new ServiceCollection().BuildServiceProvider(), _db.Database, options, _db.Time);
        return new IntegrationHealth([_check], new HealthCheckStore(_db.Database), alerts, selfTest, _db.Time, NullLogger<IntegrationHealth>.Instance);
    }

    private sealed class ScriptedCheck : IIntegrationCheck
    {
        public (HealthState State, string Figure) Next { get; set; } = (HealthState.Healthy, "");

        public string Key => "webhooks";

        public string Title => "Webhooks";

        public Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct) =>
            Task.FromResult(CheckResult.Of(this, Next.State, Next.Figure, now));
    }

    /// <summary>A Teams/Slack-like incoming webhook on loopback: a tiny Kestrel that records each {"text": …}.</summary>
    private sealed class AlertReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<string> _texts = new();
        private int _attempts;

        private AlertReceiver(WebApplication app) => _app = app;

        public Uri Url { get; private set; } = null!;
        public bool Refuse { get; set; }
        public int Attempts => _attempts;
        public IReadOnlyList<string> Texts => [.. _texts];

        public static async Task<AlertReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new AlertReceiver(app);
            app.MapPost("/incoming/{secret}", async (HttpRequest request) =>
            {
                Interlocked.Increment(ref receiver._attempts);
                if (receiver.Refuse)
                {
                    return Results.StatusCode(StatusCodes.Status500InternalServerError);
                }

                using var body = await JsonDocument.ParseAsync(request.Body);
                receiver._texts.Enqueue(body.RootElement.GetProperty("text").GetString()!);
                return Results.Ok();
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            receiver.Url = new Uri(address.TrimEnd('/') + "/incoming/s3cr3t");
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception)));
}
