using Bunit;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Identity;
using PublisherPortal.Metering;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Metering;

/// <summary>The usage component and the metering page, rendered over data the real worker produced against the emulator.</summary>
public sealed class MeteringComponentTests : PortalTestContext, IAsyncLifetime
{
    private static readonly DateTimeOffset Nine = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    private MeteringHarness _h = null!;
    private Guid _billed;
    private Guid _suspended;

    public async Task InitializeAsync()
    {
        _h = await MeteringHarness.StartAsync();
        _billed = await _h.SubscribeAsync();
        _suspended = await _h.SubscribeAsync();
        _h.Db.Time.SetUtcNow(Nine.AddMinutes(5));
        await _h.ReportAsync(_billed, 120);
        await _h.ReportAsync(_suspended, 3);
        await _h.Emulator.Simulator.SuspendAsync(_suspended);
        _h.Db.Time.SetUtcNow(Nine.AddMinutes(70));
        await _h.Submitter.RunOnceAsync();
        Services.AddSingleton(_h.Console);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await _h.DisposeAsync();
    }

    [Fact]
    public void The_usage_component_shows_overage_beyond_the_included_quantity_and_each_hours_state()
    {
        var cut = Render<SubscriptionUsage>(p => p.Add(c => c.SubscriptionId, _billed).Add(c => c.Days, 1));

        cut.WaitForAssertion(() => Assert.Contains("20 report", cut.Find("[data-dimension=reports-generated] [data-test=overage]").TextContent));
        Assert.Equal("Accepted", cut.Find("[data-test=usage-hours] [data-state]").GetAttribute("data-state"));
    }

    [Fact]
    public void An_operator_can_send_a_failed_hour_again_from_the_metering_page()
    {
        SignIn("olivia@publisher.example", "publisher", Roles.Operator);

        var cut = Render<MeteringPage>();

        cut.WaitForAssertion(() => Assert.Contains("ResourceNotActive", cut.Find("[data-test=attention]").TextContent));
        Assert.Single(cut.FindAll("[data-test=requeue]"));
    }

    [Fact]
    public void Finance_sees_failed_usage_but_cannot_send_it_again()
    {
        SignIn("finn@publisher.example", "publisher", Roles.Finance);

        var cut = Render<MeteringPage>();

        cut.WaitForAssertion(() => Assert.Contains("ResourceNotActive", cut.Find("[data-test=attention]").TextContent));
        Assert.Empty(cut.FindAll("[data-test=requeue]"));
    }
}
