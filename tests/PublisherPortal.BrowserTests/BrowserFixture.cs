using Microsoft.Playwright;

namespace PublisherPortal.BrowserTests;

/// <summary>Debian's chromium, driven by Playwright. Never downloads a browser.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = default!;

    /// <summary>Where screenshots go: every page at desktop and phone width, and the screen of any failure.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static bool Required => Environment.GetEnvironmentVariable("PORTAL_REQUIRE_BROWSER") == "1";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            if (Required)
            {
                throw new InvalidOperationException($"PORTAL_REQUIRE_BROWSER=1 but there is no chromium at {ChromiumPath} (apt-get install chromium).");
            }

            return;
        }

        Directory.CreateDirectory(ScreenshotFolder);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/> in a fresh browser context (no shared sign-in, downloads allowed) and keeps a
    /// screenshot of whatever was on screen if it fails.
    /// </summary>
    public async Task WithPageAsync(string test, Func<IPage, Task> body, int width = 1280, int height = 900)
    {
        await using var context = await Browser.NewContextAsync(new() { AcceptDownloads = true, ViewportSize = new() { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        try
        {
            await body(page);
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotFolder, $"FAILED-{test}.png"), FullPage = true });
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_playwright is not null)
        {
            await Browser.DisposeAsync();
            _playwright.Dispose();
        }
    }
}

/// <summary>A browser test; skipped with the reason when chromium is missing, unless PORTAL_REQUIRE_BROWSER=1.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!File.Exists(BrowserFixture.ChromiumPath) && !BrowserFixture.Required)
        {
            Skip = $"No chromium at {BrowserFixture.ChromiumPath}: install Debian's chromium to run browser tests (PORTAL_REQUIRE_BROWSER=1 makes this a failure).";
        }
    }
}
