using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PublisherPortal.Data;

namespace PublisherPortal.BrowserTests;

/// <summary>
/// The built portal, started as its own process in demo mode on free loopback ports with a fresh temporary content
/// root, exactly as a person runs it. Shared by every browser test class (see <see cref="PortalCollection"/>).
/// </summary>
public sealed partial class PortalFixture : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private PortalProcess? _portal;

    public Uri BaseUrl { get; private set; } = default!;

    /// <summary>The emulator's http endpoint: its /emulator control API and its demo sign-in page.</summary>
    public Uri EmulatorHttpBase { get; private set; } = default!;

    public string ContentRoot { get; } = Path.Combine(Path.GetTempPath(), "portal-browser-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The portal's own database, to check history the way finance would read it.</summary>
    public SubscriptionStore Store { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        _portal = await PortalProcess.StartAsync(ContentRoot, arguments:
        [
            "--Portal:EmulatorHttpsPort=0",
            "--Portal:EmulatorHttpPort=0",
            "--Portal:SeedDemoData=false",
        ]);
        BaseUrl = _portal.BaseUrl;
        EmulatorHttpBase = new Uri((await _portal.WaitForLineAsync(EmulatorLine())).Groups["http"].Value);
        Store = new SubscriptionStore(
            new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(ContentRoot, "App_Data", "portal.db")}"),
            TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        if (_portal is not null)
        {
            await _portal.DisposeAsync();
        }

        _http.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(ContentRoot, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner; no test depends on it.
        }
    }

    /// <summary>A customer buys in the marketplace (the emulator's POST /emulator/purchases).</summary>
    public async Task<Purchase> PurchaseAsync(string planId = "team", int? quantity = 5, bool throughReseller = false)
    {
        var response = await _http.PostAsJsonAsync(new Uri(EmulatorHttpBase, "emulator/purchases"),
            new { planId, quantity, reseller = throughReseller });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Purchase>(Json))!;
    }

    /// <summary>The emulator's current view of a subscription (GET /emulator/subscriptions).</summary>
    public async Task<string?> MarketplaceStatusAsync(Guid subscriptionId)
    {
        using var all = JsonDocument.Parse(await _http.GetStringAsync(new Uri(EmulatorHttpBase, "emulator/subscriptions")));
        return all.RootElement.EnumerateArray()
            .Where(s => s.GetProperty("id").GetGuid() == subscriptionId)
            .Select(s => s.GetProperty("saasSubscriptionStatus").GetString()?.Trim())
            .FirstOrDefault();
    }

    /// <summary>Chooses a demo person on the emulator's sign-in page and waits to be back on the portal.</summary>
    public async Task SignInAsAsync(IPage page, string identity)
    {
        await page.ClickAsync($"[data-identity={identity}]");
        await page.WaitForURLAsync(url => url.StartsWith(BaseUrl.ToString(), StringComparison.Ordinal) && !url.Contains("/signin-oidc", StringComparison.Ordinal));
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [GeneratedRegex(@"Demo emulator listening: https (?<https>\S+) and http (?<http>\S+) ")]
    private static partial Regex EmulatorLine();
}

public sealed record Purchase(Guid SubscriptionId, string Token, Uri? LandingUrl);

[CollectionDefinition(Name)]
public sealed class PortalCollection : ICollectionFixture<PortalFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "portal";
}
