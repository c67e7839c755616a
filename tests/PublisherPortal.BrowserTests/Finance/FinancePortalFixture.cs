using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Marketplace.Models;
using Microsoft.Playwright;
using PublisherPortal.Data;

namespace PublisherPortal.BrowserTests.Finance;

/// <summary>
/// Finance's own minimal portal fixture, written before the landing helper's shared PortalFixture existed: starts the
/// built portal in demo mode (in-process emulator on free ports) with a temporary content root, seeds history straight
/// into its database, and opens chromium. Replace with PortalFixture once it lands.
/// </summary>
public sealed class FinancePortalFixture : IAsyncLifetime
{
    private readonly string _contentRoot = Path.Combine(Path.GetTempPath(), "finance-browser", Guid.NewGuid().ToString("N"));
    private Process? _portal;
    private IPlaywright? _playwright;

    public string BaseUrl { get; private set; } = "";
    public IBrowser Browser { get; private set; } = null!;
    public PortalDatabase Database { get; private set; } = null!;
    public SubscriptionStore Subscriptions { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!FinanceBrowserFactAttribute.ChromiumAvailable)
        {
            return; // every test is skipped with the reason; nothing to start
        }

        Directory.CreateDirectory(Path.Combine(_contentRoot, "wwwroot"));
        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}";
        var portalDll = PortalAssemblyPath();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(portalDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     portalDll, "--contentRoot", _contentRoot, "--urls", BaseUrl,
                     "--Portal:EmulatorHttpsPort=0", "--Portal:EmulatorHttpPort=0", "--Portal:SeedDemoData=false",
                 })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        _portal = Process.Start(start)!;
        _portal.OutputDataReceived += (_, _) => { };
        _portal.ErrorDataReceived += (_, _) => { };
        _portal.BeginOutputReadLine();
        _portal.BeginErrorReadLine();
        await WaitUntilHealthyAsync();

        Database = new PortalDatabase(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(_contentRoot, "App_Data", "portal.db")}");
        Subscriptions = new SubscriptionStore(Database, TimeProvider.System);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = FinanceBrowserFactAttribute.ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>Stores a subscription with its Resolved event, as the landing page does, and returns its id.</summary>
    public async Task<Guid> ResolveAsync(string name, string offerId, string planId, int? quantity)
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
        await Subscriptions.RecordFromMarketplaceAsync(s, connection, tx);
        await Subscriptions.AppendEventAsync(new SubscriptionEvent
        {
            SubscriptionId = s.Id, OfferId = offerId, OccurredAt = TimeProvider.System.GetUtcNow(), Kind = EventKinds.Resolved,
            ToStatus = s.SaasSubscriptionStatus.ToString(), ToPlan = planId, ToQuantity = quantity, Source = EventSources.Customer,
            Actor = "alice@contoso.example",
        }, connection, tx);
        await tx.CommitAsync();
        return s.Id;
    }

    /// <summary>Signs in through the emulator's demo sign-in page by clicking the person's button, then opens <paramref name="path"/>.</summary>
    public async Task SignInAsAsync(IPage page, string identity, string path)
    {
        await page.GotoAsync(BaseUrl + path);
        await page.ClickAsync($"[data-identity={identity}]");
        await page.WaitForURLAsync(url => url.StartsWith(BaseUrl, StringComparison.Ordinal) && url.Contains(path.Split('?')[0], StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_portal is { HasExited: false })
        {
            _portal.Kill(entireProcessTree: true);
            await _portal.WaitForExitAsync();
        }

        _portal?.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_contentRoot, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp cleaner; nothing depends on it.
        }
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (_portal!.HasExited)
            {
                throw new InvalidOperationException($"The portal exited with {_portal.ExitCode} before it became healthy.");
            }

            try
            {
                if ((await http.GetAsync(BaseUrl + "/healthz")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // slow start on a busy machine
            }

            await Task.Delay(500);
        }

        throw new TimeoutException("The portal did not become healthy within two minutes.");
    }

    /// <summary>The portal as built next to the sources (its static web assets manifest points into the repository).</summary>
    private static string PortalAssemblyPath()
    {
        var here = AppContext.BaseDirectory;
        var configuration = here.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var directory = new DirectoryInfo(here);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PublisherPortal.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException("PublisherPortal.sln not found above " + here);
        }

        var dll = Path.Combine(directory.FullName, "src", "PublisherPortal", "bin", configuration, "net10.0", "PublisherPortal.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the portal first.", dll);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A browser test: skipped with a clear reason when chromium is missing, unless PORTAL_REQUIRE_BROWSER=1 demands it.</summary>
public sealed class FinanceBrowserFactAttribute : FactAttribute
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static bool ChromiumAvailable =>
        File.Exists(ChromiumPath) || Environment.GetEnvironmentVariable("PORTAL_REQUIRE_BROWSER") == "1";

    public FinanceBrowserFactAttribute()
    {
        if (!ChromiumAvailable)
        {
            Skip = $"chromium is not installed at {ChromiumPath}; install it (apt-get install chromium) or set PORTAL_REQUIRE_BROWSER=1 to make this a failure.";
        }
    }
}
