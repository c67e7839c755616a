using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Marketplace.Models;
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

    /// <summary>The same database, for tests that seed rows or read the audit log directly.</summary>
    public PortalDatabase Database { get; private set; } = default!;

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
        Database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(ContentRoot, "App_Data", "portal.db")}");
        Store = new SubscriptionStore(Database, TimeProvider.System);
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
    public async Task<Purchase> PurchaseAsync(string planId = "team", int? quantity = 5, bool throughReseller = false, string offerId = "insights-saas")
    {
        var response = await _http.PostAsJsonAsync(new Uri(EmulatorHttpBase, "emulator/purchases"),
            new { offerId, planId, quantity, reseller = throughReseller });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Purchase>(Json))!;
    }

    /// <summary>Microsoft's side acts on a subscription (POST /emulator/subscriptions/{id}/{action}: suspend, unsubscribe, token…).</summary>
    public async Task<JsonElement> MarketplaceActsAsync(Guid subscriptionId, string action)
    {
        var response = await _http.PostAsJsonAsync(new Uri(EmulatorHttpBase, $"emulator/subscriptions/{subscriptionId}/{action}"), new { });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).Clone();
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
        // Waits only until the portal's address is committed: the pages' own checks wait for what they need. Waiting for
        // a load event as well once timed out in CI on a page that had plainly loaded (the screenshot showed it), the
        // lifecycle event lost in the form_post → 302 chain; and on a loaded 2-core machine the round trip (emulator,
        // code redemption, first render) can take longer than Playwright's default.
        await page.WaitForURLAsync(
            url => url.StartsWith(BaseUrl.ToString(), StringComparison.Ordinal) && !url.Contains("/signin-oidc", StringComparison.Ordinal),
            new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit, Timeout = 60_000 });
        await WaitForInteractiveAsync(page);
    }

    /// <summary>
    /// Waits until the page answers clicks: pages are prerendered, then become interactive over the circuit, and a click
    /// in between is lost (a rejection dialog that never opened failed a CI run). The layout marks the moment.
    /// </summary>
    public static async Task WaitForInteractiveAsync(IPage page)
    {
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { Timeout = 60_000 });
    }

    /// <summary>Opens <paramref name="path"/> signed out, which sends the browser to the emulator's sign-in, and signs in as <paramref name="identity"/>.</summary>
    public async Task OpenAsAsync(IPage page, string identity, string path)
    {
        await page.GotoAsync(new Uri(BaseUrl, path.TrimStart('/')).ToString());
        await SignInAsAsync(page, identity);
    }

    /// <summary>
    /// Stores a subscription with its Resolved event straight into the portal's database, as the landing page would,
    /// for tests that only read history (no marketplace round trip needed). Returns its id.
    /// </summary>
    public async Task<Guid> RecordResolvedAsync(string name, string offerId, string planId, int? quantity)
    {
        var s = new MarketplaceSubscription
        {
            Id = Guid.NewGuid(), Name = name, PublisherId = "contoso-publisher", OfferId = offerId, PlanId = planId, Quantity = quantity,
            SaasSubscriptionStatus = SubscriptionStatus.PendingFulfillmentStart,
            Beneficiary = new Party { EmailId = "alice@contoso.example", TenantId = "11111111-1111-1111-1111-111111111111" },
            Purchaser = new Party { EmailId = "alice@contoso.example", TenantId = "11111111-1111-1111-1111-111111111111" },
        };
        await using var connection = await Database.OpenAsync();
        await using var tx = await Database.BeginWriteAsync(connection);
        await Store.RecordFromMarketplaceAsync(s, connection, tx);
        await Store.AppendEventAsync(new SubscriptionEvent
        {
            SubscriptionId = s.Id, OfferId = offerId, OccurredAt = TimeProvider.System.GetUtcNow(), Kind = EventKinds.Resolved,
            ToStatus = s.SaasSubscriptionStatus.ToString(), ToPlan = planId, ToQuantity = quantity, Source = EventSources.Customer,
            Actor = "alice@contoso.example",
        }, connection, tx);
        await tx.CommitAsync();
        return s.Id;
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
