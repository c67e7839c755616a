using System.Net;
using System.Net.Http.Json;
using Marketplace.Emulator;
using Marketplace.Models;

namespace Marketplace.Tests.Emulator;

/// <summary>A demo restarted with the same DataDirectory keeps its certificate, its signing key and its subscriptions.</summary>
public sealed class EmulatorRestartTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "emulator-restart-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_restart_serves_the_same_certificate_and_the_same_signing_key()
    {
        var (thumbprint, keys) = await RunOnceAsync(async emulator =>
            (emulator.TlsCertificate.Thumbprint, await KeysAsync(emulator)));

        var (thumbprintAfter, keysAfter) = await RunOnceAsync(async emulator =>
            (emulator.TlsCertificate.Thumbprint, await KeysAsync(emulator)));

        Assert.Equal(thumbprint, thumbprintAfter);
        Assert.Equal(keys, keysAfter);
    }

    [Fact]
    public async Task A_restart_keeps_subscriptions_and_their_landing_tokens()
    {
        var purchase = await RunOnceAsync(async emulator =>
        {
            var bought = await emulator.Simulator.PurchaseAsync(new PurchaseRequest { PlanId = "business", Quantity = 12 });
            using var http = EmulatorFixture.CreateClient(emulator);
            await ActivateAsync(http, emulator, bought.SubscriptionId);
            return bought;
        });

        var (subscription, resolveStatus) = await RunOnceAsync(async emulator =>
        {
            using var http = EmulatorFixture.CreateClient(emulator);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"api/saas/subscriptions/resolve?api-version={EmulatorFixture.ApiVersion}");
            request.Headers.Authorization = new("Bearer", await EmulatorFixture.RequestAccessTokenAsync(http, emulator.Options));
            request.Headers.Add("x-ms-marketplace-token", purchase.Token);
            using var resolve = await http.SendAsync(request);
            return (emulator.Simulator.Find(purchase.SubscriptionId), resolve.StatusCode);
        });

        Assert.Equal(SubscriptionStatus.Subscribed, subscription!.SaasSubscriptionStatus);
        Assert.Equal(12, subscription.Quantity);
        Assert.Equal(HttpStatusCode.OK, resolveStatus);
    }

    [Fact]
    public async Task An_operation_interrupted_by_a_restart_still_finishes()
    {
        var (subscriptionId, operationId) = await RunOnceAsync(async emulator =>
        {
            emulator.Options.OperationDelay = TimeSpan.FromMilliseconds(300);
            var bought = await emulator.Simulator.PurchaseAsync(new PurchaseRequest { PlanId = "team", Quantity = 2 });
            using var http = EmulatorFixture.CreateClient(emulator);
            await ActivateAsync(http, emulator, bought.SubscriptionId);
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"api/saas/subscriptions/{bought.SubscriptionId}?api-version={EmulatorFixture.ApiVersion}")
            {
                Content = JsonContent.Create(new { quantity = 6 }),
            };
            request.Headers.Authorization = new("Bearer", await EmulatorFixture.RequestAccessTokenAsync(http, emulator.Options));
            using var patch = await http.SendAsync(request);
            return (bought.SubscriptionId, Guid.Parse(patch.Headers.GetValues("Operation-Id").Single()));
        });

        var finished = await RunOnceAsync(async emulator =>
        {
            await EmulatorFixture.EventuallyAsync(() => emulator.Simulator.FindOperation(operationId)!.Status == OperationStatus.Succeeded, "the change finishes after the restart");
            return emulator.Simulator.Find(subscriptionId)!.Quantity;
        });

        Assert.Equal(6, finished);
    }

    private async Task<T> RunOnceAsync<T>(Func<RunningEmulator, Task<T>> work)
    {
        await using var emulator = await EmulatorHost.StartAsync(EmulatorFixture.CreateOptions(_dataDirectory));
        return await work(emulator);
    }

    private static async Task<string> KeysAsync(RunningEmulator emulator)
    {
        using var http = EmulatorFixture.CreateClient(emulator);
        return await http.GetStringAsync("common/discovery/v2.0/keys");
    }

    private static async Task ActivateAsync(HttpClient http, RunningEmulator emulator, Guid subscriptionId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/saas/subscriptions/{subscriptionId}/activate?api-version={EmulatorFixture.ApiVersion}");
        request.Headers.Authorization = new("Bearer", await EmulatorFixture.RequestAccessTokenAsync(http, emulator.Options));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }
}
