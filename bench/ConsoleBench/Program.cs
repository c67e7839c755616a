using System.Diagnostics;
using System.Globalization;
using Bunit;
using Marketplace;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using MudBlazor.Services;
using PublisherPortal.Console;
using PublisherPortal.Console.Subscriptions;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Subscriptions;
using PublisherPortal.Webhooks;

// The operator console's subscriptions grid at 1,000 vs 100,000 subscriptions (with 10 history events each, so
// 1,000,000 at the large size). Three measures, each the median of repeated runs after a warm-up:
//  - "query": what the grid asked per load before issue 6's second pass — a capped count and the first page (PageAsync);
//  - "grid load": what the page asks now when a filter changes — the status chips' counts and one page of rows
//    (CountByStatusAsync + RowsAsync; the pager's total comes from the chips);
//  - "first render": the real SubscriptionsPage rendered by Blazor's renderer (bUnit) until its first 25 rows are in
//    the markup — every query of the page's first load (offers and plans, chips, last reconciliation, rows) and the
//    MudBlazor rendering of the whole page.
// Target: the time at 100k is at most 2x the time at 1k.
//
//   dotnet run -c Release --project bench/ConsoleBench                  -> seeds (once, cached in the temp folder) and compares
//   dotnet run -c Release --project bench/ConsoleBench -- 1000 100000   -> other sizes
//   dotnet run -c Release --project bench/ConsoleBench -- --reseed      -> seeds again (after a schema change)

const int EventsPerSubscription = 10;
const int Runs = 15;


var reseed = args.Contains("--reseed");
var sizes = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray();
if (sizes.Length == 0)
{
    sizes = [1_000, 100_000];
}

var folder = Path.Combine(Path.GetTempPath(), "console-bench");
Directory.CreateDirectory(folder);

// What an operator does first: open the grid; narrow it; type a name fragment, an e-mail, an id.
var scenarios = new (string Name, SubscriptionPageRequest Request)[]
{
    ("first page, default sort", new(new SubscriptionFilter())),
    ("status + plan filter", new(new SubscriptionFilter { Status = Marketplace.Models.SubscriptionStatus.Subscribed, PlanId = "team" })),
    ("offer + live, by name", new(new SubscriptionFilter { OfferId = "backup-saas", IsTest = false }, SubscriptionSortColumn.Name, Descending: false)),
    ("search name fragment", new(new SubscriptionFilter { Search = "contoso" })),
    ("search e-mail", new(new SubscriptionFilter { Search = "buyer777@customer777.example" })),
    ("search tenant id", new(new SubscriptionFilter { Search = TenantOf(777).ToString("D") })),
    ("search tenant id prefix", new(new SubscriptionFilter { Search = TenantOf(777).ToString("D")[..13] })),
};

var results = new Dictionary<(int Size, string Scenario), double>();
foreach (var size in sizes)
{
    var file = Path.Combine(folder, $"console-{size}.db");
    if (reseed || !File.Exists(file))
    {
        File.Delete(file);
        var clock = Stopwatch.StartNew();
        await SeedAsync(file, size, size * EventsPerSubscription);
        Console.WriteLine($"Seeded {size:N0} subscriptions and {size * EventsPerSubscription:N0} history events in {clock.Elapsed.TotalSeconds:N1} s ({file})");
    }

    var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={file}");
    await new Migrator(database, TimeProvider.System, NullLogger<Migrator>.Instance).ApplyAsync(); // indexes added since seeding
    var query = new ConsoleSubscriptionQuery(database);
    foreach (var (name, request) in scenarios)
    {
        results[(size, "query: " + name)] = await MedianAsync(size, "query: " + name, async () => (await query.PageAsync(request)).TotalCount);
        results[(size, "grid load: " + name)] = await MedianAsync(size, "grid load: " + name, async () =>
        {
            var counts = await query.CountByStatusAsync(request.Filter);
            await query.RowsAsync(request);
            return StatusCount.Matching(counts, request.Filter.Status).Total;
        });
    }

    await using var page = PageRenderer(database);
    results[(size, "first render")] = await MedianAsync(size, "first render", () => Task.FromResult(page.RenderFirstPage()));
}

if (sizes.Length >= 2)
{
    Console.WriteLine();
    Console.WriteLine($"{"scenario",-45} {sizes[0],10:N0} {sizes[^1],10:N0}   ratio  (target <= 2.0)");
    foreach (var name in results.Keys.Where(k => k.Size == sizes[0]).Select(k => k.Scenario))
    {
        var small = results[(sizes[0], name)];
        var large = results[(sizes[^1], name)];
        Console.WriteLine($"{name,-45} {small,8:N3}ms {large,8:N3}ms {large / small,7:N2}x {(large / small <= 2.0 ? "ok" : "MISSED")}");
    }
}

return 0;

static async Task<double> MedianAsync(int size, string name, Func<Task<int>> once)
{
    await once(); // warm-up: page cache and JIT, not measured
    var times = new List<double>();
    var total = 0;
    for (var run = 0; run < Runs; run++)
    {
        var clock = Stopwatch.StartNew();
        total = await once();
        times.Add(clock.Elapsed.TotalMilliseconds);
    }

    times.Sort();
    Console.WriteLine($"{size,9:N0}  {name,-45} median {times[times.Count / 2],8:N3} ms  (min {times[0],8:N3}, max {times[^1],8:N3})  count {total:N0}");
    return times[times.Count / 2];
}

static FirstRender PageRenderer(PortalDatabase database) => new(database);

static Guid TenantOf(int customer) => new(customer, 7, 7, [1, 2, 3, 4, 5, 6, 7, 8]);

static async Task SeedAsync(string file, int subscriptions, int events)
{
    var database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={file}");
    await new Migrator(database, TimeProvider.System, NullLogger<Migrator>.Instance).ApplyAsync();
    await using var connection = (SqliteConnection)await database.OpenAsync();
    await using var tx = (SqliteTransaction)await database.BeginWriteAsync(connection);

    string[] statuses = ["Subscribed", "Subscribed", "Subscribed", "Subscribed", "Subscribed", "Subscribed", "Subscribed", "Suspended", "PendingFulfillmentStart", "Unsubscribed"];
    (string Offer, string Plan, int? Seats)[] plans =
        [("insights-saas", "team", 5), ("insights-saas", "business", 20), ("insights-saas", "starter", null), ("backup-saas", "pro", 10), ("backup-saas", "basic", null)];
    var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    var ids = new string[subscriptions];

    using (var insert = connection.CreateCommand())
    {
        insert.Transaction = tx;
        insert.CommandText = """
            INSERT INTO subscriptions (id, name, publisher_id, offer_id, plan_id, quantity, status, beneficiary_email, beneficiary_tenant_id,
                                       purchaser_email, purchaser_tenant_id, is_test, access_enabled, first_seen_at, updated_at)
            VALUES ($id, $name, 'contoso-publisher', $offer, $plan, $quantity, $status, $email, $tenant, $email, $tenant, $test, $access, $firstSeen, $updated)
            """;
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var name = insert.Parameters.Add("$name", SqliteType.Text);
        var offer = insert.Parameters.Add("$offer", SqliteType.Text);
        var plan = insert.Parameters.Add("$plan", SqliteType.Text);
        var quantity = insert.Parameters.Add("$quantity", SqliteType.Integer);
        var status = insert.Parameters.Add("$status", SqliteType.Text);
        var email = insert.Parameters.Add("$email", SqliteType.Text);
        var tenant = insert.Parameters.Add("$tenant", SqliteType.Text);
        var test = insert.Parameters.Add("$test", SqliteType.Integer);
        var access = insert.Parameters.Add("$access", SqliteType.Integer);
        var firstSeen = insert.Parameters.Add("$firstSeen", SqliteType.Text);
        var updated = insert.Parameters.Add("$updated", SqliteType.Text);
        insert.Prepare();
        for (var i = 0; i < subscriptions; i++)
        {
            var p = plans[i % plans.Length];
            ids[i] = new Guid(i, 1, 1, [0, 0, 0, 0, 0, 0, 0, 1]).ToString("D");
            id.Value = ids[i];
            // One name in fifty carries "Contoso": a fragment an operator types that matches a few per cent.
            name.Value = i % 50 == 0 ? $"Contoso branch {i}" : $"Customer {i} analytics";
            offer.Value = p.Offer;
            plan.Value = p.Plan;
            quantity.Value = (object?)p.Seats ?? DBNull.Value;
            status.Value = statuses[i % statuses.Length];
            email.Value = $"buyer{i}@customer{i % 1000}.example";
            tenant.Value = TenantOf(i % 1000).ToString("D");
            test.Value = i % 20 == 0 ? 1 : 0;
            access.Value = statuses[i % statuses.Length] == "Subscribed" ? 1 : 0;
            firstSeen.Value = PublisherPortal.Finance.FinanceCsvExport.Time(start.AddMinutes(i));
            updated.Value = PublisherPortal.Finance.FinanceCsvExport.Time(start.AddMinutes(i + (i % 13) * 60));
            await insert.ExecuteNonQueryAsync();
        }
    }

    using (var insert = connection.CreateCommand())
    {
        insert.Transaction = tx;
        insert.CommandText = """
            INSERT INTO subscription_events (subscription_id, offer_id, occurred_at, kind, from_status, to_status, from_plan, to_plan,
                                             from_quantity, to_quantity, source, actor)
            VALUES ($sub, $offer, $at, 'QuantityChanged', 'Subscribed', 'Subscribed', $plan, $plan, $from, $to, 'customer', $actor)
            """;
        var sub = insert.Parameters.Add("$sub", SqliteType.Text);
        var offer = insert.Parameters.Add("$offer", SqliteType.Text);
        var at = insert.Parameters.Add("$at", SqliteType.Text);
        var plan = insert.Parameters.Add("$plan", SqliteType.Text);
        var from = insert.Parameters.Add("$from", SqliteType.Integer);
        var to = insert.Parameters.Add("$to", SqliteType.Integer);
        var actor = insert.Parameters.Add("$actor", SqliteType.Text);
        insert.Prepare();
        for (var i = 0; i < events; i++)
        {
            var s = i % subscriptions;
            var p = plans[s % plans.Length];
            sub.Value = ids[s];
            offer.Value = p.Offer;
            at.Value = PublisherPortal.Finance.FinanceCsvExport.Time(start.AddSeconds(i * 7L));
            plan.Value = p.Plan;
            from.Value = 5 + i % 40;
            to.Value = 6 + i % 40;
            actor.Value = $"buyer{s}@customer{s % 1000}.example";
            await insert.ExecuteNonQueryAsync();
        }
    }

    await tx.CommitAsync();
}

/// <summary>
/// The subscriptions page as an operator's circuit renders it: the portal's console services over the seeded file, an
/// operator signed in, MudBlazor's services and providers. The marketplace client and webhook settings point nowhere:
/// a first render never calls the marketplace.
/// </summary>
internal sealed class FirstRender : IAsyncDisposable
{
    private readonly BunitContext _context = new();

    public FirstRender(PortalDatabase database)
    {
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(database);
        _context.Services.AddSingleton(TimeProvider.System);
        _context.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        _context.Services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        _context.Services.AddSingleton<SubscriptionStore>();
        _context.Services.AddSingleton<OperationStore>();
        _context.Services.AddSingleton<AuditLog>();
        _context.Services.AddScoped<SubscriptionChangeService>();
        _context.Services.AddMarketplaceClient(o =>
        {
            o.BaseUri = new Uri("https://marketplace.invalid/api/");
            o.TenantId = "tenant";
            o.ClientId = "client";
            o.ClientSecret = "secret";
        });
        _context.Services.AddWebhookServices(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhooks:Instance"] = "https://login.invalid/",
            ["Webhooks:PublisherTenantId"] = "72f988bf-0000-4000-8000-00000000c0de",
            ["Webhooks:AudienceClientId"] = "5f1a0c2e-0000-4000-8000-000000000001",
            ["Webhooks:MarketplaceAppId"] = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7",
        }).Build().GetSection(WebhooksOptions.Section));
        _context.Services.AddConsoleServices();

        var auth = _context.AddAuthorization();
        auth.SetClaims(new System.Security.Claims.Claim("preferred_username", "olivia@publisher.example"));
        auth.SetRoles(Roles.Operator);
        auth.SetAuthorized("olivia@publisher.example");
        auth.SetPolicies(Policies.Operator, Policies.Staff);
        _context.Render<MudPopoverProvider>();
    }

    /// <summary>Renders a new page and waits until its first page of rows is drawn; returns how many rows it shows.</summary>
    public int RenderFirstPage()
    {
        var page = _context.Render<SubscriptionsPage>();
        var rows = 0;
        page.WaitForAssertion(() =>
        {
            rows = page.FindAll("[data-testid=subscriptions-grid] tbody tr").Count;
            if (rows < 25)
            {
                throw new InvalidOperationException($"{rows} rows drawn so far");
            }
        }, TimeSpan.FromSeconds(30));
        // The page stays rendered (idle) until the context is disposed: 16 of them cost nothing while others are timed.
        return rows;
    }

    public ValueTask DisposeAsync() => _context.DisposeAsync();
}
