using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Marketplace.Emulator;
using Marketplace.Models;

namespace Marketplace.Tests;

[CollectionDefinition(Name)]
public sealed class EmulatorCollection : ICollectionFixture<EmulatorFixture>
{
    public const string Name = "Emulator";
}

/// <summary>
/// One emulator for the collection, on loopback with a throw-away data directory and short delays so the suite runs in
/// seconds. Webhooks go to a small receiver in the same process. Each test makes its own subscriptions.
/// </summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public const string ApiVersion = "2018-08-31";

    private string? _accessToken;

    public RunningEmulator Emulator { get; private set; } = null!;

    /// <summary>Trusts exactly the emulator's certificate; base address is the https endpoint.</summary>
    public HttpClient Http { get; private set; } = null!;

    public WebhookReceiver Webhooks { get; private set; } = null!;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "emulator-tests-" + Guid.NewGuid().ToString("N"));

    public MarketplaceSimulator Simulator => Emulator.Simulator;

    public EmulatorOptions Options => Emulator.Options;

    public async Task InitializeAsync()
    {
        Webhooks = await WebhookReceiver.StartAsync();
        Emulator = await EmulatorHost.StartAsync(CreateOptions(DataDirectory, Webhooks.Url));
        Http = CreateClient(Emulator);
    }

    public static EmulatorOptions CreateOptions(string? dataDirectory, Uri? webhookUrl = null) => new()
    {
        DataDirectory = dataDirectory,
        WebhookUrl = webhookUrl,
        LandingPageUrl = new Uri("https://portal.example/landing"),
        // Long enough for a test to see an operation pending on a busy machine, short enough to keep the suite quick.
        OperationDelay = TimeSpan.FromSeconds(1),
        AutoAcceptAfter = TimeSpan.FromSeconds(5),
        PageSize = 3,
        WebhookRetry = new WebhookRetryOptions { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(400), AttemptTimeout = TimeSpan.FromSeconds(5) },
    };

    public static HttpClient CreateClient(RunningEmulator emulator) =>
        new(emulator.CreateTrustingHandler()) { BaseAddress = emulator.HttpsBaseUri, Timeout = TimeSpan.FromSeconds(30) };

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Emulator.DisposeAsync();
        await Webhooks.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }

    /// <summary>An app token for the marketplace resource, fetched the raw way a client-credentials client does.</summary>
    public async Task<string> GetAccessTokenAsync() => _accessToken ??= await RequestAccessTokenAsync(Http, Options);

    public static async Task<string> RequestAccessTokenAsync(HttpClient http, EmulatorOptions options)
    {
        using var response = await http.PostAsync($"{options.PublisherTenantId}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = options.PortalClientId,
            ["client_secret"] = options.PortalClientSecret,
            ["scope"] = $"{options.MarketplaceAppId}/.default",
        }));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>A fulfillment call with a valid token; api-version is added unless the path already carries a query.</summary>
    public async Task<HttpResponseMessage> ApiAsync(HttpMethod method, string path, object? body = null, string? token = null, Action<HttpRequestMessage>? configure = null)
    {
        var uri = path.Contains('?', StringComparison.Ordinal) || path.StartsWith("http", StringComparison.Ordinal) ? path : $"{path}?api-version={ApiVersion}";
        using var request = new HttpRequestMessage(method, uri.StartsWith("http", StringComparison.Ordinal) ? uri : "api/" + uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token ?? await GetAccessTokenAsync());
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: MarketplaceJson.Options);
        }

        configure?.Invoke(request);
        return await Http.SendAsync(request);
    }

    public async Task<T> ApiJsonAsync<T>(HttpMethod method, string path, object? body = null)
    {
        using var response = await ApiAsync(method, path, body);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(MarketplaceJson.Options))!;
    }

    /// <summary>A purchase, optionally activated, ready for the test to work on.</summary>
    public async Task<SimulatedPurchase> PurchaseAsync(PurchaseRequest? request = null, bool activate = false)
    {
        var purchase = await Simulator.PurchaseAsync(request ?? new PurchaseRequest());
        if (activate)
        {
            using var response = await ApiAsync(HttpMethod.Post, $"saas/subscriptions/{purchase.SubscriptionId}/activate", new ActivationRequest("team", null));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        return purchase;
    }

    /// <summary>Polls until the condition holds; the emulator finishes operations on its own clock.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("Timed out waiting: " + because);
            }

            await Task.Delay(25);
        }
    }
}
