using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Finance;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Finance;

/// <summary>
/// A Suspend that reaches us after the Reinstate that ended it (its first delivery attempt met an instance that died)
/// is written into the history at its own time, so what finance rebuilds from history bills the suspended spell.
/// </summary>
public sealed class LateSuspensionTests : IAsyncLifetime
{
    private static readonly Guid SuspendOperation = Guid.Parse("5a5a5a5a-0000-4000-8000-000000000001");
    private static readonly Guid ReinstateOperation = Guid.Parse("5a5a5a5a-0000-4000-8000-000000000002");

    private TestDatabase _db = null!;
    private FinanceData _data = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _data = new FinanceData(_db);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task The_late_spell_is_suspended_in_the_point_in_time_view_and_counted_once_each_way_in_the_summary()
    {
        var s = await ActiveSubscriptionAsync();
        var suspendedAt = _db.Time.GetUtcNow().AddDays(3);
        var reinstatedAt = suspendedAt.AddDays(2);
        _db.Time.SetUtcNow(reinstatedAt.AddMinutes(1));
        await ReinstateAsync(s.Id, reinstatedAt);
        _db.Time.Advance(TimeSpan.FromHours(1));

        var late = await RecordLateSuspensionAsync(s.Id, suspendedAt);

        Assert.NotNull(late);
        Assert.Equal(suspendedAt, late.OccurredAt);
        var pointInTime = new PointInTimeQuery(_db.Database, _db.Time);
        Assert.Equal("Subscribed", await StatusAsOfAsync(pointInTime, s.Id, suspendedAt.AddTicks(-10)));
        Assert.Equal("Suspended", await StatusAsOfAsync(pointInTime, s.Id, suspendedAt.AddDays(1)));
        Assert.Equal("Subscribed", await StatusAsOfAsync(pointInTime, s.Id, reinstatedAt.AddMinutes(2)));
        Assert.True((await pointInTime.CheckAgainstLiveAsync()).Agrees, "history rebuilt now must still equal the live row");
        var month = DateOnly.FromDateTime(suspendedAt.UtcDateTime);
        var summary = await new FinanceSummaryQuery(_db.Database, _db.Time).MonthlyAsync(month, DateOnly.FromDateTime(reinstatedAt.UtcDateTime));
        Assert.Equal((1, 1), (summary.Movements.Sum(m => m.Suspended), summary.Movements.Sum(m => m.Reinstated)));
    }

    [Fact]
    public async Task The_live_row_is_not_touched()
    {
        var s = await ActiveSubscriptionAsync();
        var suspendedAt = _db.Time.GetUtcNow().AddMinutes(1);
        _db.Time.Advance(TimeSpan.FromMinutes(3));
        await ReinstateAsync(s.Id, suspendedAt.AddMinutes(1));
        var before = await _data.Store.FindAsync(s.Id);

        await RecordLateSuspensionAsync(s.Id, suspendedAt);

        Assert.Equal(before, await _data.Store.FindAsync(s.Id));
    }

    [Fact]
    public async Task A_time_stamp_later_than_our_record_of_the_reinstatement_is_placed_just_before_it()
    {
        var s = await ActiveSubscriptionAsync();
        // The marketplace's clock runs ahead of ours: its Suspend is stamped after we recorded its Reinstate.
        var reinstatedHere = _db.Time.GetUtcNow().AddMinutes(1);
        _db.Time.SetUtcNow(reinstatedHere);
        await ReinstateAsync(s.Id, reinstatedHere.AddSeconds(30));

        var late = await RecordLateSuspensionAsync(s.Id, reinstatedHere.AddSeconds(20));

        Assert.NotNull(late);
        Assert.Equal(reinstatedHere.AddTicks(-10), late.OccurredAt);
        Assert.Equal([EventKinds.Resolved, EventKinds.Activated, EventKinds.Suspended, EventKinds.Reinstated],
            (await _data.Store.HistoryAsync(s.Id)).Select(e => e.Kind));
    }

    [Fact]
    public async Task Nothing_is_written_when_no_newer_marketplace_change_is_known()
    {
        var s = await ActiveSubscriptionAsync();
        _db.Time.Advance(TimeSpan.FromMinutes(1));
        // Reinstated by an event that carries no marketplace timeStamp (recorded before the column existed).
        await _data.ChangeAsync(s.Id, EventKinds.Reinstated, EventSources.Marketplace, "marketplace", status: SubscriptionStatus.Subscribed);

        Assert.Null(await RecordLateSuspensionAsync(s.Id, _db.Time.GetUtcNow().AddSeconds(-30)));
        Assert.Equal(3, (await _data.Store.HistoryAsync(s.Id)).Count);
    }

    [Fact]
    public async Task Nothing_is_written_before_a_newer_suspension()
    {
        var s = await ActiveSubscriptionAsync();
        var suspendedAt = _db.Time.GetUtcNow().AddMinutes(1);
        _db.Time.SetUtcNow(suspendedAt);
        await _data.Store.ApplyChangeAsync(new SubscriptionChange(s.Id, EventKinds.Suspended, EventSources.Marketplace, "marketplace")
        {
            Status = SubscriptionStatus.Suspended,
            MarketplaceTimeStamp = suspendedAt,
        });

        // Where the older spell ended (a Reinstate we never had) is unknown: a second Suspended would only blur the first.
        Assert.Null(await RecordLateSuspensionAsync(s.Id, suspendedAt.AddSeconds(-1)));
        Assert.Equal(3, (await _data.Store.HistoryAsync(s.Id)).Count);
    }

    private async Task<MarketplaceSubscription> ActiveSubscriptionAsync()
    {
        var s = await _data.ResolveAsync(planId: "team", quantity: 5);
        _db.Time.Advance(TimeSpan.FromMinutes(1));
        await _data.ChangeAsync(s.Id, EventKinds.Activated, EventSources.Customer, "alice@contoso.example", status: SubscriptionStatus.Subscribed);
        return s;
    }

    /// <summary>The Reinstate applied while our row still says Subscribed: its Suspend has not reached us yet.</summary>
    private Task<ChangeResult> ReinstateAsync(Guid id, DateTimeOffset marketplaceTimeStamp) =>
        _data.Store.ApplyChangeAsync(new SubscriptionChange(id, EventKinds.Reinstated, EventSources.Marketplace, "marketplace")
        {
            Status = SubscriptionStatus.Subscribed,
            AccessEnabled = true,
            OperationId = ReinstateOperation,
            MarketplaceTimeStamp = marketplaceTimeStamp,
        });

    private async Task<SubscriptionEvent?> RecordLateSuspensionAsync(Guid id, DateTimeOffset marketplaceTimeStamp)
    {
        await using var connection = await _db.Database.OpenAsync();
        await using var tx = await _db.Database.BeginWriteAsync(connection);
        var late = await _data.Store.RecordLateStatusChangeAsync(
            new LateStatusChange(id, EventKinds.Suspended, SubscriptionStatus.Suspended, marketplaceTimeStamp, EventSources.Marketplace, "marketplace")
            {
                OperationId = SuspendOperation,
            },
            connection, tx);
        await tx.CommitAsync();
        return late;
    }

    private static async Task<string?> StatusAsOfAsync(PointInTimeQuery query, Guid id, DateTimeOffset asOf) =>
        (await query.PageAsync(new PointInTimeRequest(asOf) { SubscriptionId = id }, null, 10)).Rows.SingleOrDefault()?.Status;
}
