using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PublisherPortal.Health;
using PublisherPortal.Identity;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Health;

public sealed class HealthPageTests : PortalTestContext, IAsyncLifetime
{
    private TestDatabase _db = null!;
    private readonly FixedCheck _token = new("marketplace-token", "Marketplace token", HealthState.Healthy, "Token obtained, valid until 10:00");
    private readonly FixedCheck _webhooks = new("webhooks", "Webhooks", HealthState.Failing, "3 deliveries refused for authentication");

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        var options = HealthData.Options();
        var health = new IntegrationHealth(
            [_token, _webhooks],
            new HealthCheckStore(_db.Database),
            new HealthAlerts(new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>(), options, NullLogger<HealthAlerts>.Instance),
            new WebhookSelfTest(new ServiceCollection().BuildServiceProvider(), _db.Database, options, _db.Time),
            _db.Time,
            NullLogger<IntegrationHealth>.Instance);
        Services.AddSingleton(health);
        Services.AddSingleton<TimeProvider>(_db.Time);
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public void Before_any_run_each_check_says_it_was_not_checked_yet()
    {
        SignIn("olivia@publisher.example", "t", Roles.Operator);

        var page = Render<HealthPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-state=Unknown]").Count));
        Assert.Contains("Not checked yet", page.Markup);
    }

    [Fact]
    public async Task Each_check_shows_its_state_figure_and_when_it_was_checked()
    {
        SignIn("olivia@publisher.example", "t", Roles.Operator);
        await Services.GetRequiredService<IntegrationHealth>().RunChecksAsync();
        _db.Time.Advance(TimeSpan.FromMinutes(3));

        var page = Render<HealthPage>();

        page.WaitForAssertion(() => Assert.Equal("Failing", page.Find("[data-test=check-webhooks]").GetAttribute("data-state")));
        var webhooks = page.Find("[data-test=check-webhooks]");
        Assert.Contains("3 deliveries refused for authentication", webhooks.TextContent);
        Assert.Contains("Checked 2026-11-01 09:00:00 UTC (3 min ago)", webhooks.TextContent);
        Assert.Equal("Healthy", page.Find("[data-test=check-marketplace-token]").GetAttribute("data-state"));
    }

    [Fact]
    public async Task The_self_test_button_runs_every_check_now_and_shows_the_outcome()
    {
        SignIn("ada@publisher.example", "t", Roles.Admin, Roles.Operator);
        var page = Render<HealthPage>();
        page.WaitForAssertion(() => page.Find("[data-test=self-test]"));
        _webhooks.State = HealthState.Healthy;
        _webhooks.Figure = "Last accepted 1 min ago";

        await page.ClickAsync("[data-test=self-test]");

        page.WaitForAssertion(() => Assert.Equal("Healthy", page.Find("[data-test=check-webhooks]").GetAttribute("data-state")));
        Assert.Contains("Last accepted 1 min ago", page.Find("[data-test=check-webhooks]").TextContent);
        // Outside demo mode there is no emulator to send a test delivery, and the page says so.
        Assert.Contains("sends no test deliveries", page.Find("[data-test=self-test-result]").TextContent);
    }

    [Fact]
    public async Task Operators_see_a_banner_while_a_check_fails_and_it_goes_once_it_recovers()
    {
        SignIn("olivia@publisher.example", "t", Roles.Operator);
        var health = Services.GetRequiredService<IntegrationHealth>();
        await health.RunChecksAsync();

        var failing = Render<HealthBanner>();
        failing.WaitForAssertion(() => Assert.Contains("Marketplace integration failing: Webhooks", failing.Find("[data-test=health-banner]").TextContent));

        _webhooks.State = HealthState.Healthy;
        await health.RunChecksAsync();
        var recovered = Render<HealthBanner>();
        recovered.WaitForAssertion(() => Assert.Empty(recovered.FindAll("[data-test=health-banner]")));
    }

    [Fact]
    public async Task Customers_never_see_the_banner()
    {
        SignIn("alice@contoso.example", "t");
        await Services.GetRequiredService<IntegrationHealth>().RunChecksAsync();

        var banner = Render<HealthBanner>();

        Assert.Empty(banner.FindAll("[data-test=health-banner]"));
    }

    private sealed class FixedCheck(string key, string title, HealthState state, string figure) : IIntegrationCheck
    {
        public HealthState State { get; set; } = state;
        public string Figure { get; set; } = figure;
        public string Key => key;
        public string Title => title;

        public Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct) =>
            Task.FromResult(CheckResult.Of(this, State, Figure, now, new CheckDetail("Last rejected", "never")));
    }
}
