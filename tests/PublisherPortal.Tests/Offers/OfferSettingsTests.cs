using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Offers;
using PublisherPortal.Tests.Console;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Offers;

/// <summary>Offer settings over a real SQLite file: defaults, saving with an audit of before and after, and two admins at once.</summary>
public sealed class OfferSettingsTests : IAsyncLifetime
{
    private static readonly System.Security.Claims.ClaimsPrincipal Ada = ConsoleHosting.Person("ada@publisher.example", Roles.Admin, Roles.Operator);
    private static readonly System.Security.Claims.ClaimsPrincipal Abe = ConsoleHosting.Person("abe@publisher.example", Roles.Admin);

    private TestDatabase _db = default!;
    private ServiceProvider _services = default!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(_db.Database);
        services.AddSingleton<TimeProvider>(_db.Time);
        services.AddSingleton<AuditLog>();
        services.AddOfferServices();
        OffersHosting.AddPolicies(services);
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task An_offer_nobody_configured_activates_automatically_and_accepts_every_change()
    {
        var policy = await Store.FindAsync("insights-saas");

        Assert.Equal((ActivationMode.Automatic, true, MinimumSeatsRule.None, 0L), (policy.Activation, policy.AcceptChanges, policy.MinimumSeats, policy.Version));
        Assert.Empty(policy.AllowedPlanMoves);
        Assert.Empty(policy.CustomFields);
    }

    [Fact]
    public async Task Saving_stores_every_setting_and_audits_who_and_what_changed_before_and_after()
    {
        var edited = OfferPolicy.DefaultFor("backup-saas") with
        {
            Activation = ActivationMode.OperatorApproval,
            AllowedPlanMoves = [new PlanMove("basic", "pro")],
            MinimumSeats = MinimumSeatsRule.Fixed,
            MinimumSeatsFixed = 3,
            CustomFields = [new CustomField { Name = "tier", Label = "Tier", Type = CustomFieldType.Choice, Options = ["Standard", "Archive"], Required = true }],
        };

        var result = await Settings().SaveAsync(Ada, edited, readVersion: 0);

        var saved = Assert.IsType<OfferSettingsResult.Saved>(result).Policy;
        var stored = await Store.FindAsync("backup-saas");
        Assert.Equal((ActivationMode.OperatorApproval, 3, 1L, "ada@publisher.example"), (stored.Activation, stored.MinimumSeatsFixed, stored.Version, stored.UpdatedBy));
        Assert.Equal([new PlanMove("basic", "pro")], stored.AllowedPlanMoves);
        Assert.Equal(["Standard", "Archive"], Assert.Single(stored.CustomFields).Options);
        Assert.Equal(saved.Version, stored.Version);
        var audit = Assert.Single(await Settings().HistoryAsync("backup-saas"));
        Assert.Equal(("ada@publisher.example", OfferSettings.AuditAction, "Saved version 1"), (audit.Actor, audit.Action, audit.Outcome));
        Assert.Contains("activation: automatic → operator approval", audit.Detail);
        Assert.Contains("minimum seats: no seat floor → at least 3 seats", audit.Detail);
        Assert.Equal(_db.Time.GetUtcNow(), audit.At);
    }

    [Fact]
    public async Task The_second_of_two_admins_editing_the_same_version_saves_nothing_and_is_told_who_won()
    {
        await Settings().SaveAsync(Ada, OfferPolicy.DefaultFor("insights-saas") with { AcceptChanges = false }, readVersion: 0);
        var bothRead = await Store.FindAsync("insights-saas");

        var first = await Settings().SaveAsync(Ada, bothRead with { MinimumSeats = MinimumSeatsRule.SeatsInUse }, bothRead.Version);
        var second = await Settings().SaveAsync(Abe, bothRead with { Activation = ActivationMode.OperatorApproval }, bothRead.Version);

        Assert.IsType<OfferSettingsResult.Saved>(first);
        var lost = Assert.IsType<OfferSettingsResult.SavedByOther>(second);
        Assert.Equal(("ada@publisher.example", 2L), (lost.Current.UpdatedBy, lost.Current.Version));
        var stored = await Store.FindAsync("insights-saas");
        Assert.Equal((ActivationMode.Automatic, MinimumSeatsRule.SeatsInUse), (stored.Activation, stored.MinimumSeats));
        var trail = await Settings().HistoryAsync("insights-saas");
        Assert.Contains(trail, a => a.Actor == "abe@publisher.example" && a.Outcome == "Conflict");
    }

    [Fact]
    public async Task Two_saves_racing_on_one_version_store_exactly_one()
    {
        var results = await Task.WhenAll(
            Settings().SaveAsync(Ada, OfferPolicy.DefaultFor("insights-saas") with { AcceptChanges = false }, 0),
            Settings().SaveAsync(Abe, OfferPolicy.DefaultFor("insights-saas") with { Activation = ActivationMode.OperatorApproval }, 0));

        Assert.Single(results.OfType<OfferSettingsResult.Saved>());
        Assert.Single(results.OfType<OfferSettingsResult.SavedByOther>());
        Assert.Equal(1L, (await Store.FindAsync("insights-saas")).Version);
    }

    [Fact]
    public async Task An_operator_without_the_Admin_role_changes_nothing()
    {
        var result = await Settings().SaveAsync(ConsoleHosting.Person("olivia@publisher.example", Roles.Operator),
            OfferPolicy.DefaultFor("insights-saas") with { AcceptChanges = false }, 0);

        Assert.IsType<OfferSettingsResult.Denied>(result);
        Assert.True((await Store.FindAsync("insights-saas")).IsDefault);
        await using var connection = await _db.Database.OpenAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM offer_policies"));
    }

    [Fact]
    public async Task Settings_that_cannot_work_are_refused_with_what_to_fix()
    {
        var result = await Settings().SaveAsync(Ada, OfferPolicy.DefaultFor("insights-saas") with
        {
            MinimumSeats = MinimumSeatsRule.Fixed,
            CustomFields = [new CustomField { Name = "Tier!", Label = "Tier", Type = CustomFieldType.Choice, Options = ["only one"] }],
        }, 0);

        var invalid = Assert.IsType<OfferSettingsResult.Invalid>(result);
        Assert.Contains(invalid.Problems, p => p.Contains("fixed minimum", StringComparison.Ordinal));
        Assert.Contains(invalid.Problems, p => p.Contains("at least two options", StringComparison.Ordinal));
        Assert.Contains(invalid.Problems, p => p.Contains("lower-case", StringComparison.Ordinal));
        Assert.True((await Store.FindAsync("insights-saas")).IsDefault);
    }

    [Fact]
    public async Task The_offer_list_holds_every_catalogued_offer_with_its_current_settings()
    {
        await ConsoleSeed.PlanAsync(_db, "insights-saas", "team", perSeat: true);
        await ConsoleSeed.PlanAsync(_db, "backup-saas", "basic", perSeat: false);

        await Settings().SaveAsync(Ada, OfferPolicy.DefaultFor("backup-saas") with { Activation = ActivationMode.OperatorApproval }, 0);

        var offers = await Settings().ListAsync();

        Assert.Equal(["backup-saas", "insights-saas"], offers.Select(o => o.OfferId));
        Assert.True(offers[0].Policy.RequiresApproval);
        Assert.True(offers[1].Policy.IsDefault);
        Assert.Equal(("team", true), (Assert.Single(offers[1].Plans).PlanId, offers[1].Plans[0].IsPricePerSeat));
    }

    private OfferPolicyStore Store => _services.GetRequiredService<OfferPolicyStore>();

    private OfferSettings Settings() => _services.CreateScope().ServiceProvider.GetRequiredService<OfferSettings>();
}
