using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Notifications;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Notifications;

/// <summary>Which history event owes which mail, to whom, with what words — read from the outbox the change committed.</summary>
public sealed class NotificationPlannerTests
{
    private const string Alice = "alice@contoso.example";

    private static SubscriptionChange Change(Guid id, string kind) => new(id, kind, EventSources.Marketplace, "test");

    [Fact]
    public async Task Activation_mails_the_customer_with_the_subscription_plan_and_seats()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription(planId: "team", quantity: 5));

        await mail.ChangeAsync(Change(id, EventKinds.Activated) with { Status = SubscriptionStatus.Subscribed, AccessEnabled = true });

        var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal((NotificationCatalog.ActivationDone.Name, "Customer", Alice), (queued.Notification, queued.Audience, queued.Recipients));
        Assert.Equal("Contoso analytics is active", queued.Subject);
        Assert.Contains("(insights-saas, plan team, 5 seats) is active", queued.Body);
        Assert.Contains("https://portal.contoso.example/my/subscriptions", queued.Body);
        Assert.EndsWith("@publisher.example", queued.MessageId);
        Assert.Equal(MailStates.Pending, queued.State);
    }

    [Fact]
    public async Task A_reseller_purchase_mails_both_the_beneficiary_and_the_purchaser()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var csp = Samples.Subscription(purchaserTenant: "33333333-3333-3333-3333-333333333333") with
        {
            SandboxType = "Csp",
            Beneficiary = new Party { EmailId = "bob@fabrikam.example", TenantId = "11111111-1111-1111-1111-111111111111" },
            Purchaser = new Party { EmailId = "carla@csp-reseller.example", TenantId = "33333333-3333-3333-3333-333333333333" },
        };
        var id = await mail.BuyAsync(csp);

        await mail.ChangeAsync(Change(id, EventKinds.Suspended) with { Status = SubscriptionStatus.Suspended, AccessEnabled = false });

        var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal(["bob@fabrikam.example", "carla@csp-reseller.example"], queued.RecipientList);
    }

    public static TheoryData<string, string, SubscriptionStatus?> CustomerEvents => new()
    {
        { EventKinds.Activated, "ActivationDone", SubscriptionStatus.Subscribed },
        { EventKinds.ApprovalGranted, "ApprovalGranted", null },
        { EventKinds.ApprovalRejected, "ApprovalRejected", null },
        { EventKinds.PlanChanged, "PlanChanged", null },
        { EventKinds.QuantityChanged, "SeatsChanged", null },
        { EventKinds.Suspended, "Suspended", SubscriptionStatus.Suspended },
        { EventKinds.Reinstated, "Reinstated", SubscriptionStatus.Subscribed },
        { EventKinds.Unsubscribed, "Cancelled", SubscriptionStatus.Unsubscribed },
    };

    [Theory]
    [MemberData(nameof(CustomerEvents))]
    public async Task Each_customer_event_owes_one_mail_to_the_customer_only(string kind, string notification, SubscriptionStatus? status)
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription());

        await mail.ChangeAsync(Change(id, kind) with { Status = status, Detail = "the reason given" });

        var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal((notification, "Customer", Alice), (queued.Notification, queued.Audience, queued.Recipients));
        Assert.DoesNotContain(MailHarness.Olivia, queued.Recipients);
        Assert.DoesNotContain("{", queued.Subject + queued.Body);
    }

    [Fact]
    public async Task A_late_suspension_placed_into_the_past_does_not_tell_a_reinstated_customer_they_are_suspended()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription(status: SubscriptionStatus.Subscribed));

        // As SubscriptionStore.RecordLateStatusChangeAsync writes it: history only, the live row stays Subscribed.
        await mail.AppendAsync(id, EventKinds.Suspended, detail: "late delivery");

        Assert.Empty(await mail.Outbox.ForSubscriptionAsync(id));
    }

    [Fact]
    public async Task A_rejection_tells_the_customer_the_reason()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription());

        await mail.AppendAsync(id, EventKinds.ApprovalRejected, detail: "we could not verify the organisation");

        Assert.Contains("could not approve your subscription Contoso analytics: we could not verify the organisation",
            Assert.Single(await mail.Outbox.ForSubscriptionAsync(id)).Body);
    }

    [Fact]
    public async Task A_plan_change_names_the_old_and_the_new_plan()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription(planId: "starter", quantity: null));

        await mail.ChangeAsync(Change(id, EventKinds.PlanChanged) with { PlanId = "business", Quantity = 5 });

        var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal("Contoso analytics is now on plan business", queued.Subject);
        Assert.Contains("changed from starter to business (5 seats)", queued.Body);
    }

    [Fact]
    public async Task A_new_purchase_tells_the_operators_once_however_often_it_is_resolved()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription());

        await mail.AppendAsync(id, EventKinds.Resolved);
        await mail.AppendAsync(id, EventKinds.Resolved);

        var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal(("NewPurchase", "Operators"), (queued.Notification, queued.Audience));
        Assert.Equal([MailHarness.Olivia, MailHarness.Ada], queued.RecipientList);
        Assert.Contains($"https://portal.contoso.example/console/subscriptions/{id}", queued.Body);
        Assert.Contains("alice@contoso.example bought insights-saas, plan team, 5 seats", queued.Body);
    }

    [Fact]
    public async Task Awaiting_approval_reassures_the_customer_and_asks_the_operators()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription());

        await mail.AppendAsync(id, EventKinds.AwaitingApproval);

        var queued = await mail.Outbox.ForSubscriptionAsync(id);
        Assert.Equal(
            [("ApprovalNeeded", $"{MailHarness.Olivia},{MailHarness.Ada}"), ("AwaitingApproval", Alice)],
            queued.Select(m => (m.Notification, m.Recipients)).OrderBy(m => m.Notification, StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task A_refused_change_tells_the_operators_which_rule_refused_it()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription());

        await mail.AppendAsync(id, EventKinds.ChangeRefused, detail: "ChangeQuantity refused: below the minimum of 10 seats");

        var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal(("ChangeRefused", "Operators"), (queued.Notification, queued.Audience));
        Assert.Contains("was refused: ChangeQuantity refused: below the minimum of 10 seats", queued.Body);
    }

    [Theory]
    [InlineData(EventKinds.Configured)]
    [InlineData(EventKinds.Renewed)]
    [InlineData(EventKinds.StaleDeliveryIgnored)]
    public async Task Events_nobody_is_told_about_queue_nothing(string kind)
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription());

        await mail.AppendAsync(id, kind);

        Assert.Empty(await mail.Outbox.ForSubscriptionAsync(id));
    }

    [Fact]
    public async Task A_change_that_is_rolled_back_leaves_no_mail_behind()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription());

        await using (var connection = await db.Database.OpenAsync())
        await using (var tx = await db.Database.BeginWriteAsync(connection))
        {
            await mail.Subscriptions.ApplyChangeAsync(Change(id, EventKinds.Suspended) with { Status = SubscriptionStatus.Suspended }, connection, tx);
            await tx.RollbackAsync();
        }

        Assert.Empty(await mail.Outbox.ForSubscriptionAsync(id));
    }

    [Fact]
    public async Task A_notification_switched_off_for_an_offer_is_not_queued_for_that_offer_only()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var insights = await mail.BuyAsync(Samples.Subscription(offerId: "insights-saas"));
        var backup = await mail.BuyAsync(Samples.Subscription(offerId: "backup-saas", planId: "pro"));

        await mail.Settings.SetEnabledAsync("insights-saas", NotificationCatalog.Suspended, enabled: false, "ada@publisher.example");
        await mail.ChangeAsync(Change(insights, EventKinds.Suspended) with { Status = SubscriptionStatus.Suspended });
        await mail.ChangeAsync(Change(backup, EventKinds.Suspended) with { Status = SubscriptionStatus.Suspended });

        Assert.Empty(await mail.Outbox.ForSubscriptionAsync(insights));
        Assert.Single(await mail.Outbox.ForSubscriptionAsync(backup));
    }

    [Fact]
    public async Task Operator_mails_are_not_queued_without_operator_addresses()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db, configure: o => o.OperatorAddresses = []);
        var id = await mail.BuyAsync(Samples.Subscription());

        await mail.AppendAsync(id, EventKinds.AwaitingApproval);

        Assert.Equal("AwaitingApproval", Assert.Single(await mail.Outbox.ForSubscriptionAsync(id)).Notification);
    }

    [Fact]
    public async Task An_admins_template_is_used_for_the_next_mail_and_is_audited()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db);
        var id = await mail.BuyAsync(Samples.Subscription());

        await mail.Settings.SaveWordingAsync(NotificationCatalog.Reinstated, "Welcome back, {CustomerEmail}", "{SubscriptionName} works again.", "ada@publisher.example");
        await mail.ChangeAsync(Change(id, EventKinds.Reinstated) with { Status = SubscriptionStatus.Subscribed });

        var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal(("Welcome back, alice@contoso.example", "Contoso analytics works again."), (queued.Subject, queued.Body));
        await using var connection = await db.Database.OpenAsync();
        Assert.Equal(1L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
            "SELECT COUNT(*) FROM audit_log WHERE action = @action AND actor = @actor",
            new { action = NotificationSettingsStore.TemplateChangedAction, actor = "ada@publisher.example" }));
    }
}
