using System.Text.Json;
using Marketplace.Emulator;
using Marketplace.Models;
using PublisherPortal.Metering;
using PublisherPortal.Tests.Support;
using System.Security.Claims;

namespace PublisherPortal.Tests.Metering;

/// <summary>
/// Aggregation and submission against the emulator on one fake clock that starts at 2026-11-01 09:00 UTC.
/// Each test has its own database and emulator.
/// </summary>
public sealed class UsageSubmissionTests
{
    private const string Dimension = "reports-generated";
    private static readonly DateTimeOffset Nine = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_closed_hour_is_summed_and_sent_as_one_accepted_event()
    {
        await using var h = await MeteringHarness.StartAsync();
        var subscriptionId = await h.SubscribeAsync();
        h.Db.Time.SetUtcNow(Nine.AddMinutes(10));
        await h.ReportAsync(subscriptionId, 3);
        h.Db.Time.SetUtcNow(Nine.AddMinutes(40));
        await h.ReportAsync(subscriptionId, 4.5m);
        h.Db.Time.SetUtcNow(Nine.AddMinutes(66));
        await h.ReportAsync(subscriptionId, 10);

        var round = await h.Submitter.RunOnceAsync();

        Assert.Equal(2, round.RecordsAggregated);
        var hour = Assert.Single(await h.HoursAsync(subscriptionId));
        Assert.Equal((Nine, UsageHourStates.Accepted, 7.5m), (hour.HourStart, hour.State, hour.Quantity));
        var billed = Assert.Single(h.Emulator.Simulator.AcceptedUsageFor(subscriptionId));
        Assert.Equal((7.5m, Nine, Dimension, "business"), (billed.Quantity, billed.EffectiveStartTime, billed.Dimension, billed.PlanId));
        Assert.Equal(billed.UsageEventId?.ToString(), hour.UsageEventId);
    }

    [Fact]
    public async Task An_hour_stays_open_until_a_few_minutes_after_it_ends()
    {
        await using var h = await MeteringHarness.StartAsync();
        var subscriptionId = await h.SubscribeAsync();
        h.Db.Time.SetUtcNow(Nine.AddMinutes(30));
        await h.ReportAsync(subscriptionId, 1);
        h.Db.Time.SetUtcNow(Nine.AddMinutes(63));

        var round = await h.Submitter.RunOnceAsync();

        Assert.Equal(0, round.RecordsAggregated);
        Assert.Empty(await h.HoursAsync(subscriptionId));
        Assert.Empty(h.Emulator.Simulator.UsageSubmissionsFor(subscriptionId));
    }

    [Fact]
    public async Task Thirty_closed_hours_go_out_in_a_batch_of_25_and_one_of_5()
    {
        await using var h = await MeteringHarness.StartAsync();
        var first = await h.SubscribeAsync();
        var second = await h.SubscribeAsync();
        for (var i = 0; i < 15; i++)
        {
            h.Db.Time.SetUtcNow(Nine.AddHours(i).AddMinutes(20));
            await h.ReportAsync(first, 1 + i);
            await h.ReportAsync(second, 100 + i);
        }

        h.Db.Time.SetUtcNow(Nine.AddHours(15).AddMinutes(10));

        var round = await h.Submitter.RunOnceAsync();

        Assert.Equal(2, round.BatchesSent);
        Assert.Equal([25, 5], h.BatchBodies.Select(b => JsonDocument.Parse(b).RootElement.GetProperty("request").GetArrayLength()));
        Assert.Equal(15, h.Emulator.Simulator.AcceptedUsageFor(first).Count);
        Assert.Equal(15, h.Emulator.Simulator.AcceptedUsageFor(second).Count);
        Assert.All(await h.HoursAsync(first), hour => Assert.Equal(UsageHourStates.Accepted, hour.State));
    }

    [Fact]
    public async Task A_crash_between_sending_and_recording_the_answer_bills_the_hour_once()
    {
        var crash = new CrashSwitch();
        await using var h = await MeteringHarness.StartAsync(() => new CrashAfterFirstBatch(crash));
        var subscriptionId = await h.SubscribeAsync();
        h.Db.Time.SetUtcNow(Nine.AddMinutes(15));
        await h.ReportAsync(subscriptionId, 12);
        h.Db.Time.SetUtcNow(Nine.AddMinutes(70));

        await Assert.ThrowsAsync<CrashAfterSendingException>(() => h.Submitter.RunOnceAsync());
        var afterCrash = Assert.Single(await h.HoursAsync(subscriptionId));
        h.Restart();
        h.Db.Time.Advance(TimeSpan.FromMinutes(1));
        await h.Submitter.RunOnceAsync();

        Assert.Equal(UsageHourStates.Submitting, afterCrash.State);
        var hour = Assert.Single(await h.HoursAsync(subscriptionId));
        Assert.Equal((UsageHourStates.Duplicate, 12m, 2), (hour.State, hour.BilledQuantity, hour.Attempts));
        Assert.False(hour.NeedsAttention);
        Assert.Single(h.Emulator.Simulator.AcceptedUsageFor(subscriptionId));
        Assert.Equal([UsageEventStatus.Accepted, UsageEventStatus.Duplicate],
            h.Emulator.Simulator.UsageSubmissionsFor(subscriptionId).Select(s => s.Answer));
    }

    [Fact]
    public async Task Usage_not_sent_within_24_hours_is_flagged_expired_and_kept()
    {
        await using var h = await MeteringHarness.StartAsync();
        var subscriptionId = await h.SubscribeAsync();
        h.Db.Time.SetUtcNow(Nine.AddMinutes(5));
        await h.ReportAsync(subscriptionId, 8);
        h.Db.Time.SetUtcNow(Nine.AddHours(25));

        var round = await h.Submitter.RunOnceAsync();

        Assert.Equal(1, round.HoursExpired);
        var hour = Assert.Single(await h.HoursAsync(subscriptionId));
        Assert.Equal((UsageHourStates.Expired, 8m), (hour.State, hour.Quantity));
        Assert.True(hour.NeedsAttention);
        Assert.Contains(await h.Console.NeedingAttentionAsync(), a => a.Id == hour.Id);
        Assert.Empty(h.Emulator.Simulator.UsageSubmissionsFor(subscriptionId));
    }

    [Fact]
    public async Task Usage_of_a_suspended_subscription_fails_as_not_active_and_is_flagged()
    {
        await using var h = await MeteringHarness.StartAsync();
        var subscriptionId = await h.SubscribeAsync();
        h.Db.Time.SetUtcNow(Nine.AddMinutes(5));
        await h.ReportAsync(subscriptionId, 2);
        await h.Emulator.Simulator.SuspendAsync(subscriptionId);
        h.Db.Time.SetUtcNow(Nine.AddMinutes(70));

        await h.Submitter.RunOnceAsync();

        var hour = Assert.Single(await h.HoursAsync(subscriptionId));
        Assert.Equal((UsageHourStates.Failed, "ResourceNotActive"), (hour.State, hour.ResultStatus));
        Assert.True(hour.NeedsAttention);
        Assert.Empty(h.Emulator.Simulator.AcceptedUsageFor(subscriptionId));
    }

    [Fact]
    public async Task Usage_arriving_after_its_hour_was_sent_is_flagged_late_not_billed_twice()
    {
        await using var h = await MeteringHarness.StartAsync();
        var subscriptionId = await h.SubscribeAsync();
        h.Db.Time.SetUtcNow(Nine.AddMinutes(5));
        await h.ReportAsync(subscriptionId, 5);
        h.Db.Time.SetUtcNow(Nine.AddMinutes(70));
        await h.Submitter.RunOnceAsync();
        await h.ReportAsync(subscriptionId, 2, occurredAt: Nine.AddMinutes(50));
        h.Db.Time.Advance(TimeSpan.FromMinutes(1));

        var round = await h.Submitter.RunOnceAsync();

        Assert.Equal(1, round.LateRecords);
        var hour = Assert.Single(await h.HoursAsync(subscriptionId));
        Assert.Equal((UsageHourStates.Accepted, 5m, 2m), (hour.State, hour.Quantity, hour.LateQuantity));
        Assert.True(hour.NeedsAttention);
        Assert.Equal(5m, Assert.Single(h.Emulator.Simulator.AcceptedUsageFor(subscriptionId)).Quantity);
    }

    [Fact]
    public async Task Usage_beyond_the_included_quantity_is_shown_as_overage()
    {
        await using var h = await MeteringHarness.StartAsync();
        var subscriptionId = await h.SubscribeAsync();
        h.Db.Time.SetUtcNow(Nine.AddMinutes(5));
        await h.ReportAsync(subscriptionId, 90);
        h.Db.Time.SetUtcNow(Nine.AddMinutes(65));
        await h.ReportAsync(subscriptionId, 40);
        h.Db.Time.SetUtcNow(Nine.AddMinutes(125));
        await h.Submitter.RunOnceAsync();

        var view = await h.Console.ForSubscriptionAsync(subscriptionId, days: 1);

        var usage = Assert.Single(view!.Dimensions);
        Assert.Equal((100m, 130m, 30m), (usage.Included, usage.Billed, usage.Overage));
    }

    [Fact]
    public async Task Only_an_operator_can_send_a_failed_hour_again()
    {
        await using var h = await MeteringHarness.StartAsync();
        var subscriptionId = await h.SubscribeAsync();
        h.Db.Time.SetUtcNow(Nine.AddMinutes(5));
        await h.ReportAsync(subscriptionId, 2);
        await h.Emulator.Simulator.SuspendAsync(subscriptionId);
        h.Db.Time.SetUtcNow(Nine.AddMinutes(70));
        await h.Submitter.RunOnceAsync();
        var failed = Assert.Single(await h.HoursAsync(subscriptionId));

        var byFinance = await h.Console.RequeueAsync(failed.Id, User("Finance"));
        var byOperator = await h.Console.RequeueAsync(failed.Id, User("Operator"));

        Assert.Equal((RequeueOutcome.NotAllowed, RequeueOutcome.Requeued), (byFinance, byOperator));
        Assert.Equal(UsageHourStates.Pending, (await h.Store.FindHourAsync(failed.Id))!.State);
    }

    private static ClaimsPrincipal User(string role) => new(new ClaimsIdentity(
        [new Claim("preferred_username", role.ToLowerInvariant() + "@publisher.example"), new Claim(ClaimTypes.Role, role)], "test"));
}
