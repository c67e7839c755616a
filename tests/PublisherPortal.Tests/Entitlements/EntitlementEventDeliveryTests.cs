using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Dapper;
using Marketplace.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Entitlements;
using PublisherPortal.Tests.Metering;
using PublisherPortal.Tests.Support;
using PublisherPortal.Webhooks;
using StandardWebhooks;

namespace PublisherPortal.Tests.Entitlements;

/// <summary>
/// Entitlement events from the change's transaction to a receiver on loopback: the real store and writer on the test
/// run's database, the real sender over HTTP, and a receiver that checks signatures with the StandardWebhooks library.
/// </summary>
public sealed class EntitlementEventDeliveryTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Receiver _receiver = null!;
    private SubscriptionStore _store = null!;
    private EntitlementEndpointStore _endpoints = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await MeteringHarness.SeedPlansAsync(_db);
        _store = new SubscriptionStore(_db.Database, _db.Time, new EntitlementEventWriter(new EntitlementReader(_db.Database), _db.Time));
        _endpoints = new EntitlementEndpointStore(_db.Database, _db.Time);
        _receiver = await Receiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _db.DisposeAsync();
    }

    private EntitlementEventSender Sender(TimeProvider? time = null) => new(
        _db.Database, new LoopbackClients(), new WorkerIdentity(),
        Options.Create(new EntitlementEventOptions { RunSender = false }), time ?? _db.Time, NullLogger<EntitlementEventSender>.Instance);

    private async Task<Guid> NewSubscriptionAsync()
    {
        var s = Samples.Subscription(status: SubscriptionStatus.PendingFulfillmentStart);
        await using var connection = await _db.Database.OpenAsync();
        await using var tx = await _db.Database.BeginWriteAsync(connection);
        await _store.RecordFromMarketplaceAsync(s, connection, tx);
        await tx.CommitAsync();
        return s.Id;
    }

    private Task ChangeAsync(Guid id, string kind, SubscriptionStatus? status = null, int? seats = null, string? plan = null, SubscriptionTerm? term = null) =>
        _store.ApplyChangeAsync(new SubscriptionChange(id, kind, EventSources.Marketplace, "test") { Status = status, Quantity = seats, PlanId = plan, Term = term });

    private static async Task<int> DrainAsync(EntitlementEventSender sender)
    {
        var total = 0;
        for (var round = 0; round < 50; round++)
        {
            var sent = await sender.SendDueAsync();
            if (sent == 0)
            {
                return total;
            }

            total += sent;
        }

        throw new InvalidOperationException("The sender never ran dry.");
    }

    private async Task<string> DeliveryStateAsync(string type)
    {
        await using var connection = await _db.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<string>("""
            SELECT d.state FROM entitlement_deliveries d JOIN entitlement_events e ON e.id = d.event_id WHERE e.event_type = @type
            """, new { type = EntitlementEventTypes.Prefix + type }) ?? "none";
    }

    [Fact]
    public async Task Every_change_arrives_once_in_order_signed_with_both_secrets_and_carrying_the_entitlement_version()
    {
        // Signatures carry the time: the library checks it against the receiver's (real) clock.
        _db.Time.SetUtcNow(DateTimeOffset.UtcNow);
        var endpoint = await _endpoints.AddAsync(_receiver.Url, "product", "admin");
        var id = await NewSubscriptionAsync();
        await _store.AppendEventAsync(new SubscriptionEvent
        {
            SubscriptionId = id, OfferId = "insights-saas", OccurredAt = _db.Time.GetUtcNow(), Kind = EventKinds.Configured, Source = EventSources.Customer,
        }, await _db.Database.OpenAsync(), null);
        await ChangeAsync(id, EventKinds.Activated, status: SubscriptionStatus.Subscribed);
        await ChangeAsync(id, EventKinds.QuantityChanged, seats: 9);
        await ChangeAsync(id, EventKinds.PlanChanged, plan: "business");
        await ChangeAsync(id, EventKinds.Suspended, status: SubscriptionStatus.Suspended);
        await ChangeAsync(id, EventKinds.Reinstated, status: SubscriptionStatus.Subscribed);
        await ChangeAsync(id, EventKinds.Renewed, term: new SubscriptionTerm { TermUnit = "P1M", StartDate = _db.Time.GetUtcNow(), EndDate = _db.Time.GetUtcNow().AddMonths(1) });
        var rotated = await _endpoints.RotateSecretAsync(endpoint.Id, TimeSpan.FromDays(1));
        await ChangeAsync(id, EventKinds.Unsubscribed, status: SubscriptionStatus.Unsubscribed);

        Assert.Equal(8, await DrainAsync(Sender()));

        var received = _receiver.Received.ToList();
        Assert.Equal(
            ["configured", "activated", "seats_changed", "plan_changed", "suspended", "reinstated", "renewed", "cancelled"],
            received.Select(r => r.Json.GetProperty("type").GetString()![EntitlementEventTypes.Prefix.Length..]));
        Assert.All(received, r =>
        {
            Assert.Equal("1.0", r.Json.GetProperty("specversion").GetString());
            Assert.Equal(id.ToString("D"), r.Json.GetProperty("subject").GetString());
            var signatures = r.Headers["webhook-signature"].ToString().Split(' ');
            Assert.Equal(2, signatures.Length);   // the old and the new secret, old first
            new StandardWebhook(endpoint.Secret).Verify(r.Body, r.Headers);    // throws when the signature is wrong
            // The library checks only a header's first signature: a product on the new secret checks the second alone.
            var second = new HeaderDictionary { ["webhook-id"] = r.Headers["webhook-id"], ["webhook-timestamp"] = r.Headers["webhook-timestamp"], ["webhook-signature"] = signatures[1] };
            new StandardWebhook(rotated!.Secret).Verify(r.Body, second);
        });
        var versions = received.Select(r => r.Json.GetProperty("data").GetProperty("version").GetInt64()).ToList();
        Assert.Equal(versions.Order().Distinct(), versions);
        Assert.Equal(9, received[2].Json.GetProperty("data").GetProperty("seats").GetInt32());
        Assert.Equal("Suspended", received[4].Json.GetProperty("data").GetProperty("access").GetProperty("reason").GetString());
        Assert.Equal(received.Count, received.Select(r => r.Headers["webhook-id"].ToString()).Distinct().Count());
        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(
            () => new StandardWebhook(EntitlementEndpointStore.NewSecret()).Verify(received[0].Body, received[0].Headers));
    }

    [Fact]
    public async Task A_receiver_answering_500_gets_the_same_event_again_later_and_the_next_change_waits_for_it()
    {
        await _endpoints.AddAsync(_receiver.Url, "product", "admin");
        var id = await NewSubscriptionAsync();
        await ChangeAsync(id, EventKinds.Activated, status: SubscriptionStatus.Subscribed);
        await ChangeAsync(id, EventKinds.QuantityChanged, seats: 7);
        var sender = Sender();
        _receiver.Status = HttpStatusCode.InternalServerError;

        Assert.Equal(1, await sender.SendDueAsync());
        Assert.Equal(0, await sender.SendDueAsync());   // backing off, and the seat change waits behind it
        Assert.Equal("Pending", await DeliveryStateAsync("activated"));

        _receiver.Status = HttpStatusCode.OK;
        _db.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(2, await DrainAsync(sender));

        var received = _receiver.Received.ToList();
        Assert.Equal(["activated", "activated", "seats_changed"],
            received.Select(r => r.Json.GetProperty("type").GetString()![EntitlementEventTypes.Prefix.Length..]));
        Assert.Equal(received[0].Headers["webhook-id"].ToString(), received[1].Headers["webhook-id"].ToString());
        Assert.Equal("Delivered", await DeliveryStateAsync("seats_changed"));
    }

    [Fact]
    public async Task An_event_refused_for_three_days_is_dead_lettered_and_no_longer_holds_back_the_next()
    {
        await _endpoints.AddAsync(_receiver.Url, "product", "admin");
        var id = await NewSubscriptionAsync();
        await ChangeAsync(id, EventKinds.Activated, status: SubscriptionStatus.Subscribed);
        var started = _db.Time.GetUtcNow();
        var sender = Sender();
        _receiver.Status = HttpStatusCode.InternalServerError;

        while (await DeliveryStateAsync("activated") != "DeadLettered")
        {
            Assert.True(_db.Time.GetUtcNow() - started < TimeSpan.FromDays(3), "still retried after 3 days");
            await sender.SendDueAsync();
            _db.Time.Advance(TimeSpan.FromMinutes(30));
        }

        Assert.True(_db.Time.GetUtcNow() - started > TimeSpan.FromDays(2), "dead-lettered long before 3 days");
        _receiver.Status = HttpStatusCode.OK;
        await ChangeAsync(id, EventKinds.Suspended, status: SubscriptionStatus.Suspended);
        Assert.Equal(1, await DrainAsync(sender));
        Assert.Equal("Delivered", await DeliveryStateAsync("suspended"));
    }

    [Fact]
    public async Task Two_instances_sending_at_once_deliver_each_event_exactly_once()
    {
        await _endpoints.AddAsync(_receiver.Url, "product", "admin");
        for (var i = 0; i < 12; i++)
        {
            await ChangeAsync(await NewSubscriptionAsync(), EventKinds.Activated, status: SubscriptionStatus.Subscribed);
        }

        var one = Sender();
        var two = Sender();
        await Task.WhenAll(DrainAsync(one), DrainAsync(two));

        var ids = _receiver.Received.Select(r => r.Headers["webhook-id"].ToString()).ToList();
        Assert.Equal(12, ids.Count);
        Assert.Equal(12, ids.Distinct().Count());
    }

    [Fact]
    public async Task A_change_rolled_back_leaves_no_event_behind()
    {
        await _endpoints.AddAsync(_receiver.Url, "product", "admin");
        var id = await NewSubscriptionAsync();
        await using (var connection = await _db.Database.OpenAsync())
        await using (var tx = await _db.Database.BeginWriteAsync(connection))
        {
            await _store.ApplyChangeAsync(new SubscriptionChange(id, EventKinds.Activated, EventSources.Marketplace, "test") { Status = SubscriptionStatus.Subscribed }, connection, tx);
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM entitlement_events", transaction: tx));
            await tx.RollbackAsync();
        }

        await using var check = await _db.Database.OpenAsync();
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM entitlement_events"));
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM entitlement_deliveries"));
    }

    private sealed class LoopbackClients : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(new SocketsHttpHandler { AllowAutoRedirect = false });
    }

    /// <summary>The product's webhook receiver on loopback: keeps what it was sent and answers <see cref="Status"/>.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Receiver(WebApplication app) => _app = app;

        public ConcurrentQueue<(string Body, HeaderDictionary Headers, JsonElement Json)> Received { get; } = new();
        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;
        public Uri Url { get; private set; } = null!;

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/events", async (HttpRequest request) =>
            {
                var body = await new StreamReader(request.Body).ReadToEndAsync();
                var headers = new HeaderDictionary();   // case-insensitive, as HTTP header names are
                foreach (var (name, value) in request.Headers)
                {
                    headers[name] = value;
                }

                using var json = JsonDocument.Parse(body);
                receiver.Received.Enqueue((body, headers, json.RootElement.Clone()));
                return Results.StatusCode((int)receiver.Status);
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            receiver.Url = new Uri(address + "/events");
            return receiver;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
