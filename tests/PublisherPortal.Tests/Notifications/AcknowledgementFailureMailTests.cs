using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;
using PublisherPortal.Tests.Webhooks;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Notifications;

/// <summary>An acknowledgement the marketplace refuses for good pages the operators, in the transaction that marks it Failed.</summary>
public sealed class AcknowledgementFailureMailTests
{
    [Fact]
    public async Task A_failed_acknowledgement_mails_the_operators_once_with_the_marketplaces_answer()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var subscriptionId = await mail.BuyAsync(Samples.Subscription());
        var store = new AcknowledgementStore(db.Database);
        var operationId = Guid.NewGuid();
        await using (var connection = await db.Database.OpenAsync())
        await using (var tx = await db.Database.BeginWriteAsync(connection))
        {
            var now = db.Time.GetUtcNow();
            await store.QueueAsync(new AcknowledgementRecord
            {
                SubscriptionId = subscriptionId, OperationId = operationId, Action = "ChangePlan", Answer = AcknowledgementAnswers.Success,
                CreatedAt = now, DueBy = now.AddSeconds(10), State = AcknowledgementStates.Pending, NextAttemptAt = now,
            }, connection, tx);
            await tx.CommitAsync();
        }

        var marketplace = new ScriptedMarketplace { OnUpdateStatus = (_, _, _) => throw ScriptedMarketplace.Answer(HttpStatusCode.BadRequest, "no such operation") };
        var sender = new AcknowledgementSender(store, new OperationStore(db.Database), marketplace, db.Database, new WorkSignals(), new WorkerIdentity(),
            Options.Create(new WebhooksOptions()), db.Time, NullLogger<AcknowledgementSender>.Instance, mail.Planner);

        await sender.SendDueAsync();
        await sender.SendDueAsync();

        Assert.Equal(AcknowledgementStates.Failed, (await store.FindByOperationAsync(operationId))!.State);
        var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(subscriptionId));
        Assert.Equal(("AcknowledgementFailed", "Operators"), (queued.Notification, queued.Audience));
        Assert.Equal([MailHarness.Olivia, MailHarness.Ada], queued.RecipientList);
        Assert.Contains($"Success for operation {operationId} (ChangePlan): refused for good: 400 no such operation", queued.Body);
    }
}
