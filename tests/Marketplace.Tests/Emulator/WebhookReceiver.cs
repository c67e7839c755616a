using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Marketplace.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Marketplace.Tests;

/// <summary>One delivery as the publisher's endpoint saw it.</summary>
public sealed record ReceivedWebhook(string? Authorization, string RawBody, MarketplaceOperation Operation, int AnsweredWith);

/// <summary>
/// A stand-in for the portal's webhook endpoint: a tiny Kestrel on loopback that records every delivery and answers
/// 200 unless a test scripted other answers for a subscription.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly ConcurrentDictionary<Guid, ConcurrentQueue<int>> _scripted = new();

    private WebhookReceiver(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRouting();
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/webhook", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var raw = await reader.ReadToEndAsync();
            var operation = JsonSerializer.Deserialize<MarketplaceOperation>(raw, MarketplaceJson.Options)!;
            var status = receiver!._scripted.TryGetValue(operation.SubscriptionId, out var queue) && queue.TryDequeue(out var scripted) ? scripted : 200;
            receiver._received.Enqueue(new ReceivedWebhook(request.Headers.Authorization.ToString(), raw, operation, status));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new WebhookReceiver(app, new Uri(new Uri(address), "/webhook"));
        return receiver;
    }

    /// <summary>The next deliveries for this subscription are answered with these codes, in order; then 200 again.</summary>
    public void AnswerNext(Guid subscriptionId, params int[] statusCodes) =>
        _scripted[subscriptionId] = new ConcurrentQueue<int>(statusCodes);

    public IReadOnlyList<ReceivedWebhook> For(Guid operationId) => [.. _received.Where(r => r.Operation.Id == operationId)];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
