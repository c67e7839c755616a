using Marketplace.Emulator;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Console.Approvals;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Offers;
using PublisherPortal.Tests.Console;
using PublisherPortal.Tests.Landing;
using PublisherPortal.Tests.Webhooks;

namespace PublisherPortal.Tests.Offers;

/// <summary>
/// Operator approval through the portal's real services over a SQLite file and the emulator on loopback: the customer's
/// wizard ends in "awaiting approval", an operator approves (activation) or rejects (cancellation), and two operators
/// deciding at once do not both win.
/// </summary>
public sealed class ApprovalFlowTests() : ApprovalOfferScenario(OffersHosting.AddOffersWithPolicies)
{
    private static readonly System.Security.Claims.ClaimsPrincipal Olivia = ConsoleHosting.Person("olivia@publisher.example", Roles.Operator);
    private static readonly System.Security.Claims.ClaimsPrincipal Ada = ConsoleHosting.Person("ada@publisher.example", Roles.Admin, Roles.Operator);
    private static readonly CurrentUser Alice = DemoIdentities.Alice.AsUser();

    [Fact]
    public async Task Finishing_the_wizard_of_an_approval_offer_waits_for_an_operator_and_activates_nothing()
    {
        var (id, token) = await SubmitAsync();

        Assert.Equal(SubscriptionStatus.PendingFulfillmentStart, Scenario.Simulator.Find(id)!.SaasSubscriptionStatus);
        var approval = await Service<ActivationApprovalStore>().FindAsync(id);
        Assert.Equal((ApprovalStates.Pending, Alice.Actor), (approval!.State, approval.RequestedBy));
        Assert.Equal([EventKinds.Resolved, EventKinds.Configured, EventKinds.AwaitingApproval], await KindsAsync(id));

        // Coming back later, or clicking again, shows the same state and asks no second approval.
        Assert.IsType<LandingOutcome.AwaitingApproval>(await Landing().OpenAsync(token, Alice));
        Assert.IsType<ActivationOutcome.AwaitingApproval>(await Landing().ActivateAsync(id, Alice));
        Assert.Single(await KindsAsync(id), k => k == EventKinds.AwaitingApproval);
        var queued = Assert.Single(await Service<ApprovalQueue>().ListAsync());
        Assert.Equal((id, "30"), (queued.SubscriptionId, queued.Answers["retention-days"]));
    }

    [Fact]
    public async Task An_approval_activates_in_the_marketplace_and_the_customer_then_sees_it_active()
    {
        var (id, token) = await SubmitAsync();

        var result = await Actions().ApproveAsync(Olivia, id);

        Assert.IsType<ConsoleActionResult.Done>(result);
        Assert.Equal(SubscriptionStatus.Subscribed, Scenario.Simulator.Find(id)!.SaasSubscriptionStatus);
        Assert.Equal([EventKinds.Resolved, EventKinds.Configured, EventKinds.AwaitingApproval, EventKinds.ApprovalGranted, EventKinds.Activated], await KindsAsync(id));
        var activated = (await Portal.Subscriptions.HistoryAsync(id))[^1];
        Assert.Equal((EventSources.Operator, "olivia@publisher.example"), (activated.Source, activated.Actor));
        Assert.IsType<LandingOutcome.AlreadyActive>(await Landing().OpenAsync(token, Alice));
        Assert.Empty(await Service<ApprovalQueue>().ListAsync());
    }

    [Fact]
    public async Task A_rejection_records_the_reason_cancels_in_the_marketplace_and_shows_the_customer_why()
    {
        var (id, token) = await SubmitAsync();

        var result = await Actions().RejectAsync(Olivia, id, "We cannot serve your region yet.");

        Assert.IsType<ConsoleActionResult.Done>(result);
        var rejected = Assert.Single(await Portal.Subscriptions.HistoryAsync(id), e => e.Kind == EventKinds.ApprovalRejected);
        Assert.Equal(("We cannot serve your region yet.", "olivia@publisher.example"), (rejected.Detail, rejected.Actor));
        await Eventually.HoldsAsync(() => Task.FromResult(Scenario.Simulator.Find(id)!.SaasSubscriptionStatus),
            s => s == SubscriptionStatus.Unsubscribed, "the marketplace cancelled the subscription");
        await Eventually.HoldsAsync(() => Portal.Subscriptions.FindAsync(id), s => s!.Status == SubscriptionStatus.Unsubscribed,
            "the operation tracker recorded the cancellation");
        Assert.Equal(EventKinds.Unsubscribed, (await KindsAsync(id))[^1]);
        var outcome = Assert.IsType<LandingOutcome.Rejected>(await Landing().OpenAsync(token, Alice));
        Assert.Equal("We cannot serve your region yet.", outcome.Approval.Reason);
    }

    [Fact]
    public async Task A_rejection_without_a_reason_is_not_taken()
    {
        var (id, _) = await SubmitAsync();

        var result = await Actions().RejectAsync(Olivia, id, "   ");

        Assert.IsType<ConsoleActionResult.Failed>(result);
        Assert.Equal(ApprovalStates.Pending, (await Service<ActivationApprovalStore>().FindAsync(id))!.State);
        Assert.Equal(SubscriptionStatus.PendingFulfillmentStart, Scenario.Simulator.Find(id)!.SaasSubscriptionStatus);
    }

    [Fact]
    public async Task A_reason_with_a_text_direction_override_is_refused_saying_so_and_nothing_is_rejected()
    {
        var (id, _) = await SubmitAsync();

        // Shown to the customer and kept in the audit: it must read as it is stored.
        var result = await Actions().RejectAsync(Olivia, id, "Approved\u202E.devorppa toN");

        var failed = Assert.IsType<ConsoleActionResult.Failed>(result);
        Assert.Contains("invisible control or text-direction character", failed.Message);
        Assert.Equal(ApprovalStates.Pending, (await Service<ActivationApprovalStore>().FindAsync(id))!.State);
    }

    [Fact]
    public async Task Of_two_operators_deciding_at_once_one_wins_and_the_other_is_told_who()
    {
        var (id, _) = await SubmitAsync();

        var results = await Task.WhenAll(Actions().ApproveAsync(Olivia, id), Actions().RejectAsync(Ada, id, "Duplicate order."));

        var winner = Assert.Single(results.OfType<ConsoleActionResult.Done>());
        var loser = Assert.Single(results.OfType<ConsoleActionResult.Failed>());
        var approval = (await Service<ActivationApprovalStore>().FindAsync(id))!;
        Assert.Contains(approval.DecidedBy!, loser.Message);
        Assert.Single(await KindsAsync(id), k => k is EventKinds.ApprovalGranted or EventKinds.ApprovalRejected);
        Assert.NotNull(winner);
    }

    [Fact]
    public async Task Finance_may_not_decide()
    {
        var (id, _) = await SubmitAsync();

        var result = await Actions().ApproveAsync(ConsoleHosting.Person("finn@publisher.example", Roles.Finance), id);

        Assert.IsType<ConsoleActionResult.Denied>(result);
        Assert.Equal(ApprovalStates.Pending, (await Service<ActivationApprovalStore>().FindAsync(id))!.State);
    }

    [Fact]
    public async Task The_server_refuses_answers_that_break_the_offer_s_rules_and_stores_valid_ones()
    {
        var purchase = await Scenario.Simulator.PurchaseAsync(new PurchaseRequest { OfferId = Offer, PlanId = "pro", Quantity = 10 });
        await Landing().OpenAsync(purchase.Token, Alice);
        var setup = LandingServices.ValidSetup();
        setup.Answers["retention-days"] = "3";

        await Assert.ThrowsAsync<System.ComponentModel.DataAnnotations.ValidationException>(() => Landing().SaveSetupAsync(purchase.SubscriptionId, setup, Alice));
        Assert.Null((await Portal.Subscriptions.FindAsync(purchase.SubscriptionId))!.ConfiguredAt);

        setup.Answers["retention-days"] = "30";
        setup.Answers["not-asked"] = "ignored";
        var saved = await Landing().SaveSetupAsync(purchase.SubscriptionId, setup, Alice);
        Assert.Equal(new Dictionary<string, string?> { ["retention-days"] = "30" }, AccountSetup.AnswersFrom(saved.AccountSettings));
    }

    private async Task<List<string>> KindsAsync(Guid id) => [.. (await Portal.Subscriptions.HistoryAsync(id)).Select(e => e.Kind)];
}
