using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>The sender's rules for "done", "try again" and "give up", against scripted marketplace answers and a moved clock.</summary>
public sealed class AcknowledgementSenderTests
{
    private static AcknowledgementSender Sender(TestDatabase db, ScriptedMarketplace marketplace) =>
        new(new AcknowledgementStore(db.Database), new OperationStore(db.Database), marketplace, db.Database, new WorkSignals(), new WorkerIdentity(),
            Options.Create(new WebhooksOptions { RetryBaseDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(30), MaxAttempts = 5 }),
            db.Time, NullLogger<AcknowledgementSender>.Instance);

    private static async Task<AcknowledgementRecord> QueueAsync(TestDatabase db, string action, string answer)
    {
        var now = db.Time.GetUtcNow();
        var ack = new AcknowledgementRecord
        {
            SubscriptionId = Guid.NewGuid(),
            OperationId = Guid.NewGuid(),
            Action = action,
            Answer = answer,
            CreatedAt = now,
            DueBy = now.AddSeconds(10),
            State = AcknowledgementStates.Pending,
            NextAttemptAt = now,
        };
        await using var connection = await db.Database.OpenAsync();
        await using var tx = await db.Database.BeginWriteAsync(connection);
        Assert.True(await new AcknowledgementStore(db.Database).QueueAsync(ack, connection, tx));
        Assert.False(await new AcknowledgementStore(db.Database).QueueAsync(ack, connection, tx));
        await tx.CommitAsync();
        return (await new AcknowledgementStore(db.Database).FindByOperationAsync(ack.OperationId))!;
    }

    [Fact]
    public async Task A_409_means_a_newer_update_was_fulfilled_and_counts_as_done()
    {
        await using var db = await TestDatabase.CreateAsync();
        var marketplace = new ScriptedMarketplace { OnUpdateStatus = (_, _, _) => throw ScriptedMarketplace.Answer(HttpStatusCode.Conflict) };
        var ack = await QueueAsync(db, "ChangePlan", AcknowledgementAnswers.Success);

        await Sender(db, marketplace).SendDueAsync();

        var stored = await new AcknowledgementStore(db.Database).FindAsync(ack.Id);
        Assert.Equal(AcknowledgementStates.Sent, stored!.State);
        Assert.Contains("409", stored.LastError);
    }

    [Fact]
    public async Task Any_4xx_to_a_reinstatement_acknowledgement_counts_as_done()
    {
        await using var db = await TestDatabase.CreateAsync();
        var marketplace = new ScriptedMarketplace { OnUpdateStatus = (_, _, _) => throw ScriptedMarketplace.Answer(HttpStatusCode.BadRequest) };
        var ack = await QueueAsync(db, "Reinstate", AcknowledgementAnswers.Success);

        await Sender(db, marketplace).SendDueAsync();

        Assert.Equal(AcknowledgementStates.Sent, (await new AcknowledgementStore(db.Database).FindAsync(ack.Id))!.State);
    }

    [Fact]
    public async Task A_400_to_a_change_acknowledgement_can_never_succeed_and_is_marked_failed_for_operators()
    {
        await using var db = await TestDatabase.CreateAsync();
        var marketplace = new ScriptedMarketplace { OnUpdateStatus = (_, _, _) => throw ScriptedMarketplace.Answer(HttpStatusCode.BadRequest, "no such status") };
        var ack = await QueueAsync(db, "ChangeQuantity", AcknowledgementAnswers.Failure);

        await Sender(db, marketplace).SendDueAsync();

        var stored = await new AcknowledgementStore(db.Database).FindAsync(ack.Id);
        Assert.Equal(AcknowledgementStates.Failed, stored!.State);
        Assert.Contains("no such status", stored.LastError);
        Assert.Single(await new AcknowledgementStore(db.Database).ListByStateAsync(AcknowledgementStates.Failed, 10));
    }

    [Fact]
    public async Task Transient_failures_back_off_exponentially_and_the_schedule_survives_a_new_instance()
    {
        await using var db = await TestDatabase.CreateAsync();
        var failures = 2;
        var marketplace = new ScriptedMarketplace
        {
            OnUpdateStatus = (_, _, _) => failures-- > 0 ? throw ScriptedMarketplace.Answer(HttpStatusCode.ServiceUnavailable) : Task.CompletedTask,
        };
        var ack = await QueueAsync(db, "ChangePlan", AcknowledgementAnswers.Success);
        var store = new AcknowledgementStore(db.Database);

        await Sender(db, marketplace).SendDueAsync();
        var afterFirst = await store.FindAsync(ack.Id);
        Assert.Equal((AcknowledgementStates.Pending, 1), (afterFirst!.State, afterFirst.Attempts));
        Assert.InRange(afterFirst.NextAttemptAt - db.Time.GetUtcNow(), TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(1.2));

        // Not due yet: nothing is sent, whichever instance looks.
        Assert.Equal(0, await Sender(db, marketplace).SendDueAsync());
        db.Time.Advance(TimeSpan.FromSeconds(1.2));
        await Sender(db, marketplace).SendDueAsync();
        var afterSecond = await store.FindAsync(ack.Id);
        Assert.Equal(2, afterSecond!.Attempts);
        Assert.InRange(afterSecond.NextAttemptAt - db.Time.GetUtcNow(), TimeSpan.FromSeconds(1.6), TimeSpan.FromSeconds(2.4));

        db.Time.Advance(TimeSpan.FromSeconds(2.5));
        await Sender(db, marketplace).SendDueAsync();

        Assert.Equal(AcknowledgementStates.Sent, (await store.FindAsync(ack.Id))!.State);
        Assert.Equal(3, marketplace.StatusUpdates.Count);
    }

    [Fact]
    public async Task An_operator_retry_sends_a_failed_acknowledgement_again_but_never_a_sent_one()
    {
        await using var db = await TestDatabase.CreateAsync();
        var refuse = true;
        var marketplace = new ScriptedMarketplace
        {
            OnUpdateStatus = (_, _, _) => refuse ? throw ScriptedMarketplace.Answer(HttpStatusCode.NotFound) : Task.CompletedTask,
        };
        var ack = await QueueAsync(db, "ChangePlan", AcknowledgementAnswers.Success);
        var sender = Sender(db, marketplace);
        await sender.SendDueAsync();
        Assert.Equal(AcknowledgementStates.Failed, (await new AcknowledgementStore(db.Database).FindAsync(ack.Id))!.State);

        refuse = false;
        Assert.Equal(AcknowledgementRetryResult.Queued, await sender.RetryAsync(ack.Id));
        await sender.SendDueAsync();

        Assert.Equal(AcknowledgementStates.Sent, (await new AcknowledgementStore(db.Database).FindAsync(ack.Id))!.State);
        Assert.Equal(AcknowledgementRetryResult.AlreadySent, await sender.RetryAsync(ack.Id));
        Assert.Equal(AcknowledgementRetryResult.NotFound, await sender.RetryAsync(999_999));
        Assert.Equal(0, await sender.SendDueAsync());
        Assert.Equal(2, marketplace.StatusUpdates.Count);
    }
}
