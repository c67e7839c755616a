using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Console.Approvals;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Notifications;
using PublisherPortal.Offers;
using PublisherPortal.Tests.Console;
using PublisherPortal.Tests.Landing;
using PublisherPortal.Tests.Webhooks;

namespace PublisherPortal.Tests.Offers;

/// <summary>
/// Offer policies and notifications together, as the portal runs them: the approval flow, a refused change and the
/// per-offer switches, through the real services over one database and the emulator on loopback, read from the outbox.
/// </summary>
public sealed class OfferMailTests() : ApprovalOfferScenario(OffersHosting.AddOffersWithPoliciesAndMail)
{
    private const string Alice = "alice@contoso.example";
    private static readonly System.Security.Claims.ClaimsPrincipal Olivia = ConsoleHosting.Person("olivia@publisher.example", Roles.Operator);

    [Fact]
    public async Task Finishing_the_wizard_of_an_approval_offer_tells_the_customer_and_the_operators_once_and_approving_tells_the_customer_twice()
    {
        var (id, token) = await SubmitAsync();
        // The customer coming back to the landing page, or pressing the button again, owes nobody a second mail.
        Assert.IsType<LandingOutcome.AwaitingApproval>(await Landing().OpenAsync(token, DemoIdentities.Alice.AsUser()));
        Assert.IsType<ActivationOutcome.AwaitingApproval>(await Landing().ActivateAsync(id, DemoIdentities.Alice.AsUser()));

        var waiting = await MailsAsync(id);
        Assert.Equal(
            [("NewPurchase", OffersHosting.OperatorMail), ("AwaitingApproval", Alice), ("ApprovalNeeded", OffersHosting.OperatorMail)],
            waiting.Select(m => (m.Notification, m.Recipients)));
        Assert.Contains("waits for your approval", waiting[2].Body);

        Assert.IsType<ConsoleActionResult.Done>(await Actions().ApproveAsync(Olivia, id));

        var after = await MailsAsync(id);
        Assert.Equal(["NewPurchase", "AwaitingApproval", "ApprovalNeeded", "ApprovalGranted", "ActivationDone"], after.Select(m => m.Notification));
        Assert.All(after.Skip(3), m => Assert.Equal(Alice, m.Recipients));
        Assert.Contains("is active", after[^1].Body);
    }

    [Fact]
    public async Task A_rejection_mails_the_customer_the_reason_and_the_cancellation_that_follows_is_not_mailed_again()
    {
        var (id, _) = await SubmitAsync();

        Assert.IsType<ConsoleActionResult.Done>(await Actions().RejectAsync(Olivia, id, "We cannot serve your region yet."));
        await Eventually.HoldsAsync(() => Portal.Subscriptions.FindAsync(id), s => s!.Status == SubscriptionStatus.Unsubscribed,
            "the marketplace confirmed the cancellation");

        var mails = await MailsAsync(id);
        Assert.Equal(["NewPurchase", "AwaitingApproval", "ApprovalNeeded", "ApprovalRejected"], mails.Select(m => m.Notification));
        Assert.Equal(Alice, mails[^1].Recipients);
        Assert.Contains("We cannot serve your region yet.", mails[^1].Body);
        Assert.Contains("will be cancelled", mails[^1].Body);
    }

    [Fact]
    public async Task A_change_refused_by_an_offer_rule_mails_the_operators_once_naming_the_rule()
    {
        await OffersHosting.SaveAsync(Scenario.Database, OfferPolicy.DefaultFor(EmulatorCatalogue.InsightsOffer) with { AcceptChanges = false });
        var id = await Portal.ActiveSubscriptionAsync(Scenario.Emulator, "team", 5);

        var operationId = await Scenario.Simulator.ChangeQuantityAsync(id, 8);

        await RefusedAsync(id, operationId);
        var mail = Assert.Single(await MailsAsync(id));
        Assert.Equal(("ChangeRefused", OffersHosting.OperatorMail), (mail.Notification, mail.Recipients));
        Assert.Contains("rule 'changes accepted: no'", mail.Body);
    }

    [Fact]
    public async Task A_switch_turned_off_for_one_offer_silences_that_offer_only()
    {
        await OffersHosting.SaveAsync(Scenario.Database, OfferPolicy.DefaultFor(EmulatorCatalogue.InsightsOffer) with { AcceptChanges = false });
        await OffersHosting.SaveAsync(Scenario.Database, (await new OfferPolicyStore(Scenario.Database).FindAsync(Offer)) with { AcceptChanges = false });
        await Service<NotificationSettingsStore>().SetEnabledAsync(EmulatorCatalogue.InsightsOffer, NotificationCatalog.ChangeRefused, enabled: false, "ada@publisher.example");
        var silenced = await Portal.ActiveSubscriptionAsync(Scenario.Emulator, "team", 5);
        var told = await Portal.ActiveSubscriptionAsync(Scenario.Emulator, "pro", 5, Offer);

        await RefusedAsync(silenced, await Scenario.Simulator.ChangeQuantityAsync(silenced, 8));
        await RefusedAsync(told, await Scenario.Simulator.ChangeQuantityAsync(told, 8));

        Assert.Empty(await MailsAsync(silenced));
        Assert.Equal("ChangeRefused", Assert.Single(await MailsAsync(told)).Notification);
    }

    /// <summary>Waits for the refusal in history: its mails were queued in the same transaction, so the outbox is final then.</summary>
    private Task RefusedAsync(Guid subscriptionId, Guid operationId) =>
        Eventually.HoldsAsync(() => Portal.EventsForOperationAsync(subscriptionId, operationId),
            events => events.Any(e => e.Kind == EventKinds.ChangeRefused), $"change {operationId} refused");

    private async Task<IReadOnlyList<OutboxMail>> MailsAsync(Guid id) => await Service<MailOutbox>().ForSubscriptionAsync(id);
}
