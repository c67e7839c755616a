using System.ComponentModel.DataAnnotations;
using Marketplace;
using Marketplace.Models;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Observability;
using PublisherPortal.Offers;
using static PublisherPortal.Observability.PortalTelemetry;

namespace PublisherPortal.Landing;

/// <summary>
/// The customer's first visit: resolve the marketplace's purchase token, show what was bought, record the account
/// set-up, and activate. Every step is written before it is shown, so a refresh resumes where the customer was.
/// </summary>
public sealed partial class LandingService(
    IFulfillmentClient marketplace,
    PortalDatabase database,
    SubscriptionStore subscriptions,
    LandingStore landing,
    PlanStore planStore,
    OfferPolicyStore policies,
    ActivationApprovalStore approvals,
    AuditLog audit,
    TimeProvider time,
    IOptions<LandingOptions> options,
    ILogger<LandingService> logger,
    OfferNames offerNames)
{
    private LandingOptions Settings => options.Value;

    /// <param name="token">The query parameter as the framework decoded it. It is passed on as it is: decoding twice
    /// would corrupt tokens that contain '%' or '+' (docs/marketplace.md#landing-token: decode once).</param>
    public async Task<LandingOutcome> OpenAsync(string? token, CurrentUser user, CancellationToken ct = default)
    {
        using var activity = LandingTelemetry.Source.StartActivity("landing resolve");
        var outcome = await OpenCoreAsync(token, user, ct);
        var name = outcome.GetType().Name;
        activity?.SetTag("portal.landing.outcome", name);
        if (outcome is not LandingOutcome.NoToken)
        {
            LandingTelemetry.Opened.Add(1, new KeyValuePair<string, object?>("outcome", name));
        }

        return outcome;
    }

    private async Task<LandingOutcome> OpenCoreAsync(string? token, CurrentUser user, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return new LandingOutcome.NoToken();
        }

        var correlation = Guid.NewGuid();
        MarketplaceSubscription bought;
        IReadOnlyList<Plan> plans;
        try
        {
            var resolved = await marketplace.ResolveAsync(token, correlation, ct);
            bought = await marketplace.GetSubscriptionAsync(resolved.Id, correlation, ct);
            plans = await marketplace.ListAvailablePlansAsync(resolved.Id, correlation, null, ct);
        }
        catch (Exception e) when (MarketplaceProblems.IsTransient(e) && !ct.IsCancellationRequested)
        {
            Log.MarketplaceUnavailable(logger, "resolve", correlation, e.Message);
            return new LandingOutcome.Unavailable(MarketplaceProblems.Unavailable);
        }
        catch (MarketplaceException e)
        {
            Log.TokenRejected(logger, (int)e.StatusCode, e.RequestId);
            return new LandingOutcome.InvalidToken(MarketplaceProblems.ForResolve(e), e.RequestId);
        }

        var record = await RecordResolvedAsync(bought, plans, user, ct);
        var view = await ViewAsync(record, plans, user, ct);
        return (record.Status, view.Approval?.State) switch
        {
            // Coming back while the operators decide shows the same state; once approved, the activation is under way.
            (SubscriptionStatus.PendingFulfillmentStart or SubscriptionStatus.NotStarted, ApprovalStates.Pending or ApprovalStates.Approved)
                => new LandingOutcome.AwaitingApproval(view, view.Approval!),
            (_, ApprovalStates.Rejected) when record.Status != SubscriptionStatus.Subscribed => new LandingOutcome.Rejected(view, view.Approval!),
            (SubscriptionStatus.PendingFulfillmentStart or SubscriptionStatus.NotStarted, _) => new LandingOutcome.ReadyToActivate(view),
            (SubscriptionStatus.Subscribed, _) => new LandingOutcome.AlreadyActive(view),
            (SubscriptionStatus.Suspended, _) => new LandingOutcome.Suspended(view),
            (SubscriptionStatus.Unsubscribed, _) => new LandingOutcome.Ended(view),
            _ => new LandingOutcome.Unavailable(
                "The marketplace reported a state of this purchase that we do not recognise. Please try again later or contact our support."),
        };
    }

    /// <summary>The signed-in person confirms they act for a beneficiary in another tenant. Recorded in history and audit.</summary>
    public async Task ConfirmTenantMismatchAsync(Guid subscriptionId, CurrentUser user, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var record = await subscriptions.FindAsync(subscriptionId, connection, tx, ct)
            ?? throw new InvalidOperationException($"Subscription {subscriptionId} is not recorded; the landing page records it first.");
        var detail = $"Signed in from tenant {user.TenantId ?? "unknown"}; the beneficiary's tenant is {record.BeneficiaryTenantId ?? "unknown"}.";
        await subscriptions.AppendEventAsync(new SubscriptionEvent
        {
            SubscriptionId = record.Id,
            OfferId = record.OfferId,
            OccurredAt = time.GetUtcNow(),
            Kind = EventKinds.TenantMismatchConfirmed,
            Source = EventSources.Customer,
            Actor = user.Actor,
            Detail = detail,
        }, connection, tx, ct);
        await audit.RecordAsync(user.Actor, EventKinds.TenantMismatchConfirmed, record.Id, detail, "Confirmed", connection, tx, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The people the welcome mail went to, as the outbox holds it (empty when none was sent).</summary>
    public Task<IReadOnlyList<string>> WelcomeRecipientsAsync(Guid subscriptionId, CancellationToken ct = default) =>
        landing.WelcomeRecipientsAsync(subscriptionId, ct);

    public Task MoveToStepAsync(Guid subscriptionId, WizardStep step, CancellationToken ct = default) =>
        landing.MoveToStepAsync(subscriptionId, step, ct);

    /// <summary>Saves the account set-up and moves the wizard to the plan confirmation. A Configured event records it.</summary>
    public async Task<SubscriptionRecord> SaveSetupAsync(Guid subscriptionId, AccountSetup setup, CurrentUser user, CancellationToken ct = default)
    {
        // The form validates too; this guards the database against any other caller.
        Validator.ValidateObject(setup, new ValidationContext(setup), validateAllProperties: true);

        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var record = await subscriptions.FindAsync(subscriptionId, connection, tx, ct)
            ?? throw new InvalidOperationException($"Subscription {subscriptionId} is not recorded; the landing page records it first.");
        var policy = await policies.FindAsync(record.OfferId, connection, tx, ct);
        if (CustomAnswers.Problems(policy.CustomFields, setup.Answers) is { Count: > 0 } problems)
        {
            throw new ValidationException(string.Join(" ", problems));
        }

        if (await approvals.FindAsync(subscriptionId, connection, tx, ct) is not null)
        {
            // The operators decide on the answers they were shown; changing them under their feet is not allowed.
            throw new InvalidOperationException($"Subscription {subscriptionId} was submitted for approval; its set-up can no longer change.");
        }

        setup = setup.Copy();
        setup.Answers = CustomAnswers.Keep(policy.CustomFields, setup.Answers);
        await landing.SaveAccountAsync(subscriptionId, setup, user.Actor, connection, tx, ct);
        await subscriptions.AppendEventAsync(new SubscriptionEvent
        {
            SubscriptionId = record.Id,
            OfferId = record.OfferId,
            OccurredAt = time.GetUtcNow(),
            Kind = EventKinds.Configured,
            Source = EventSources.Customer,
            Actor = user.Actor,
            Detail = $"Organisation {setup.OrganisationName.Trim()}, administrator {setup.AdminEmail.Trim()}, data region {setup.DataRegion}"
                + (setup.Answers.Count > 0 ? $", {setup.Answers.Count} further answers." : "."),
        }, connection, tx, ct);
        await tx.CommitAsync(ct);
        return (await subscriptions.FindAsync(subscriptionId, ct))!;
    }

    /// <summary>
    /// Activates once, however often it is called: the database claim on wizard_step lets one caller through, and the
    /// others learn that an activation is under way (or done).
    /// </summary>
    public Task<ActivationOutcome> ActivateAsync(Guid subscriptionId, CurrentUser user, CancellationToken ct = default) =>
        TracedActivationAsync(subscriptionId, "customer", () => ActivateCoreAsync(subscriptionId, user, ct));

    /// <summary>Activation as a span and a counted outcome (Activated is a landing conversion), logged under the subscription.</summary>
    private async Task<ActivationOutcome> TracedActivationAsync(Guid subscriptionId, string by, Func<Task<ActivationOutcome>> activate)
    {
        using var activity = LandingTelemetry.Source.StartActivity("landing activate");
        activity?.SetTag("marketplace.subscription_id", subscriptionId);
        using var scope = SubscriptionLogScope.Begin(logger, subscriptionId);
        var outcome = await activate();
        var name = outcome.GetType().Name;
        activity?.SetTag("portal.activation.outcome", name);
        LandingTelemetry.Activations.Add(1, new KeyValuePair<string, object?>("outcome", name), new KeyValuePair<string, object?>("by", by));
        return outcome;
    }

    private async Task<ActivationOutcome> ActivateCoreAsync(Guid subscriptionId, CurrentUser user, CancellationToken ct)
    {
        var record = await subscriptions.FindAsync(subscriptionId, ct);
        if (record is null)
        {
            return new ActivationOutcome.NotReady("We have no record of this purchase. Open the link from the marketplace again.");
        }

        if (record.Status == SubscriptionStatus.Subscribed)
        {
            return new ActivationOutcome.Activated(record);
        }

        if (record.Status != SubscriptionStatus.PendingFulfillmentStart)
        {
            return new ActivationOutcome.NotReady($"This subscription is {record.Status} and cannot be activated.");
        }

        if (record.ConfiguredAt is null)
        {
            return new ActivationOutcome.NotReady("Set up your account first.");
        }

        if (IsTenantMismatch(record, user) && !await landing.HasEventAsync(subscriptionId, EventKinds.TenantMismatchConfirmed, ct))
        {
            return new ActivationOutcome.NotReady("Confirm that you act for the organisation this subscription was bought for.");
        }

        var policy = await policies.FindAsync(record.OfferId, ct);
        if (CustomAnswers.Problems(policy.CustomFields, AccountSetup.AnswersFrom(record.AccountSettings)) is { Count: > 0 } missing)
        {
            // The offer's questions changed after the customer answered them: the new ones come first.
            return new ActivationOutcome.NotReady("Go back to the account step and answer: " + string.Join(" ", missing));
        }

        // A decision already taken stands even if the offer stopped requiring approval since: a rejection is final.
        var approval = await approvals.FindAsync(subscriptionId, ct);
        if (approval is null && policy.RequiresApproval)
        {
            approval = await RequestApprovalAsync(record, user, ct);
        }

        switch (approval?.State)
        {
            case ApprovalStates.Pending:
                return new ActivationOutcome.AwaitingApproval(approval);
            case ApprovalStates.Rejected:
                return new ActivationOutcome.Rejected(approval);
        }

        // Approved, but the operator's activation did not finish (the marketplace was away): the customer may finish it.
        return await ClaimAndActivateAsync(record, user, EventSources.Customer, ct);
    }

    /// <summary>
    /// The operator's side of an approved activation: the same claim, call and confirmation as the customer's click, with
    /// the operator as the actor. Callers record the approval first (ApprovalGranted), so history reads approval, then activation.
    /// </summary>
    public Task<ActivationOutcome> ActivateApprovedAsync(Guid subscriptionId, CurrentUser approver, CancellationToken ct = default) =>
        TracedActivationAsync(subscriptionId, "operator", () => ActivateApprovedCoreAsync(subscriptionId, approver, ct));

    private async Task<ActivationOutcome> ActivateApprovedCoreAsync(Guid subscriptionId, CurrentUser approver, CancellationToken ct)
    {
        var record = await subscriptions.FindAsync(subscriptionId, ct);
        if (record is null)
        {
            return new ActivationOutcome.NotReady("We have no record of this purchase.");
        }

        if (record.Status == SubscriptionStatus.Subscribed)
        {
            return new ActivationOutcome.Activated(record);
        }

        if (record.Status != SubscriptionStatus.PendingFulfillmentStart)
        {
            return new ActivationOutcome.NotReady($"This subscription is {record.Status} and cannot be activated.");
        }

        if (await approvals.FindAsync(subscriptionId, ct) is not { State: ApprovalStates.Approved })
        {
            return new ActivationOutcome.NotReady("This activation has not been approved.");
        }

        return await ClaimAndActivateAsync(record, approver, EventSources.Operator, ct);
    }

    private async Task<ActivationApproval> RequestApprovalAsync(SubscriptionRecord record, CurrentUser user, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var now = time.GetUtcNow();
        if (await approvals.TryRequestAsync(record.Id, record.OfferId, user.Actor, now, connection, tx, ct))
        {
            await subscriptions.AppendEventAsync(SubscriptionEvent.Milestone(
                record,
                EventKinds.AwaitingApproval,
                now,
                EventSources.Customer,
                user.Actor,
                $"Set-up finished; offer {record.OfferId} needs an operator's approval before activation."), connection, tx, ct);
            await audit.RecordAsync(user.Actor, "RequestApproval", record.Id, $"offer {record.OfferId}", "Pending", connection, tx, ct);
            Log.ApprovalRequested(logger, record.Id, record.OfferId);
        }

        var approval = (await approvals.FindAsync(record.Id, connection, tx, ct))!;
        await tx.CommitAsync(ct);
        return approval;
    }

    private async Task<ActivationOutcome> ClaimAndActivateAsync(SubscriptionRecord record, CurrentUser user, string source, CancellationToken ct)
    {
        var subscriptionId = record.Id;
        var staleBefore = time.GetUtcNow() - Settings.ActivationClaimTimeout;
        if (!await landing.TryClaimActivationAsync(subscriptionId, staleBefore, ct))
        {
            var now = await subscriptions.FindAsync(subscriptionId, ct);
            return now?.Status == SubscriptionStatus.Subscribed
                ? new ActivationOutcome.Activated(now)
                : new ActivationOutcome.AlreadyInProgress();
        }

        var correlation = Guid.NewGuid();
        try
        {
            await marketplace.ActivateAsync(subscriptionId, new ActivationRequest(record.PlanId, record.Quantity), correlation, ct);
        }
        catch (Exception e) when (MarketplaceProblems.IsTransient(e) && !ct.IsCancellationRequested)
        {
            Log.MarketplaceUnavailable(logger, "activate", correlation, e.Message);
            await landing.ReleaseActivationAsync(subscriptionId, CancellationToken.None);
            await audit.RecordAsync(user.Actor, "Activate", subscriptionId, e.Message, "Unavailable", CancellationToken.None);
            return new ActivationOutcome.Failed(MarketplaceProblems.Unavailable, CanRetry: true);
        }
        catch (MarketplaceException e)
        {
            Log.ActivationRefused(logger, subscriptionId, (int)e.StatusCode, e.RequestId);
            await landing.ReleaseActivationAsync(subscriptionId, CancellationToken.None);
            await audit.RecordAsync(user.Actor, "Activate", subscriptionId, e.ErrorMessage, "Refused", CancellationToken.None);
            return new ActivationOutcome.Failed(MarketplaceProblems.ForActivate(e), CanRetry: false);
        }

        return await ConfirmActivationAsync(subscriptionId, user, ct, source);
    }

    /// <summary>
    /// Activate answers 200 on receipt only (docs/marketplace.md#activate): the subscription is Subscribed when Get says so. Also used
    /// by "Check again" when an earlier confirmation ran out of patience.
    /// </summary>
    public async Task<ActivationOutcome> ConfirmActivationAsync(Guid subscriptionId, CurrentUser user, CancellationToken ct = default, string source = EventSources.Customer)
    {
        var correlation = Guid.NewGuid();
        for (var attempt = 1; attempt <= Settings.ActivationConfirmAttempts; attempt++)
        {
            MarketplaceSubscription current;
            try
            {
                current = await marketplace.GetSubscriptionAsync(subscriptionId, correlation, ct);
            }
            catch (Exception e) when (MarketplaceProblems.IsTransient(e) && !ct.IsCancellationRequested)
            {
                Log.MarketplaceUnavailable(logger, "confirm activation", correlation, e.Message);
                return new ActivationOutcome.AwaitingConfirmation();
            }

            if (current.SaasSubscriptionStatus == SubscriptionStatus.Subscribed)
            {
                var activated = await RecordActivatedAsync(current, user, source, ct);
                await audit.RecordAsync(user.Actor, "Activate", subscriptionId, $"plan {current.PlanId}, {current.Quantity?.ToString() ?? "no"} seats", "Activated", ct);
                return new ActivationOutcome.Activated(activated);
            }

            if (current.SaasSubscriptionStatus == SubscriptionStatus.Unsubscribed)
            {
                // A failed activation arrives as Unsubscribe (docs/marketplace.md#activate); the webhook records the status change.
                return new ActivationOutcome.Failed(
                    "The marketplace ended this subscription instead of activating it. Please contact our support; no charge applies.",
                    CanRetry: false);
            }

            if (attempt < Settings.ActivationConfirmAttempts)
            {
                await Task.Delay(Settings.ActivationConfirmInterval, time, ct);
            }
        }

        return new ActivationOutcome.AwaitingConfirmation();
    }

    /// <summary>The signed-in person belongs to another tenant than the one the purchase was made for.</summary>
    public static bool IsTenantMismatch(SubscriptionRecord subscription, CurrentUser user) =>
        subscription.BeneficiaryTenantId is { Length: > 0 } beneficiaryTenant
        && !string.Equals(user.TenantId, beneficiaryTenant, StringComparison.OrdinalIgnoreCase);

    private async Task<SubscriptionRecord> RecordResolvedAsync(
        MarketplaceSubscription bought, IReadOnlyList<Plan> plans, CurrentUser user, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var isNew = await subscriptions.RecordFromMarketplaceAsync(bought, connection, tx, ct);
        var record = (await subscriptions.FindAsync(bought.Id, connection, tx, ct))!;

        if (!isNew && record.Status != bought.SaasSubscriptionStatus && bought.SaasSubscriptionStatus != SubscriptionStatus.Unknown)
        {
            // The marketplace is the truth of what the customer bought: a webhook we missed, or an activation whose
            // confirmation never reached us. Correct it visibly rather than show the customer a stale state.
            var corrected = await subscriptions.ApplyChangeAsync(
                new SubscriptionChange(bought.Id, EventKinds.StatusCorrected, EventSources.Reconciliation, user.Actor)
                {
                    Status = bought.SaasSubscriptionStatus,
                    PlanId = bought.PlanId,
                    Quantity = bought.Quantity,
                    Term = bought.Term,
                    AccessEnabled = bought.SaasSubscriptionStatus == SubscriptionStatus.Subscribed,
                    Detail = "The marketplace showed another status when the customer opened the landing page.",
                }, connection, tx, ct);
            record = corrected.Subscription ?? record;
        }

        if (!await landing.HasEventAsync(bought.Id, EventKinds.Resolved, connection, tx, ct))
        {
            await subscriptions.AppendEventAsync(new SubscriptionEvent
            {
                SubscriptionId = bought.Id,
                OfferId = bought.OfferId,
                OccurredAt = time.GetUtcNow(),
                Kind = EventKinds.Resolved,
                ToStatus = bought.SaasSubscriptionStatus.ToString(),
                ToPlan = bought.PlanId,
                ToQuantity = bought.Quantity,
                Source = EventSources.Customer,
                Actor = user.Actor,
                Detail = "Opened the landing page with the marketplace's purchase token.",
            }, connection, tx, ct);
        }

        await planStore.UpsertAsync(bought.OfferId, plans, connection, tx, ct);
        await tx.CommitAsync(ct);
        return record;
    }

    private async Task<SubscriptionRecord> RecordActivatedAsync(MarketplaceSubscription current, CurrentUser user, string source, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var record = await subscriptions.FindAsync(current.Id, connection, tx, ct);
        if (record is not null && record.Status != SubscriptionStatus.Subscribed)
        {
            await subscriptions.ApplyChangeAsync(
                new SubscriptionChange(current.Id, EventKinds.Activated, source, user.Actor)
                {
                    Status = SubscriptionStatus.Subscribed,
                    AccessEnabled = true,
                    PlanId = current.PlanId,
                    Quantity = current.Quantity,
                    Term = current.Term,
                    Detail = source == EventSources.Operator ? $"Activated on approval by {user.Actor}." : "Activated from the landing page.",
                }, connection, tx, ct);
        }

        await landing.MarkDoneAsync(current.Id, connection, tx, ct);
        await tx.CommitAsync(ct);
        return (await subscriptions.FindAsync(current.Id, ct))!;
    }

    private async Task<PurchaseView> ViewAsync(SubscriptionRecord record, IReadOnlyList<Plan> plans, CurrentUser user, CancellationToken ct)
    {
        var mismatch = IsTenantMismatch(record, user);
        return new PurchaseView
        {
            Subscription = record,
            Plan = plans.FirstOrDefault(p => string.Equals(p.PlanId, record.PlanId, StringComparison.OrdinalIgnoreCase)),
            TenantMismatch = mismatch,
            TenantMismatchConfirmed = mismatch && await landing.HasEventAsync(record.Id, EventKinds.TenantMismatchConfirmed, ct),
            Policy = await policies.FindAsync(record.OfferId, ct),
            Approval = await approvals.FindAsync(record.Id, ct),
            OfferName = await offerNames.NameOfAsync(record.OfferId, ct),
        };
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Marketplace unavailable during {Step} (correlation {CorrelationId}): {Reason}")]
        public static partial void MarketplaceUnavailable(ILogger logger, string step, Guid correlationId, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Purchase token rejected with {StatusCode} (request {RequestId})")]
        public static partial void TokenRejected(ILogger logger, int statusCode, string requestId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Activation of {SubscriptionId} (offer {OfferId}) waits for an operator's approval")]
        public static partial void ApprovalRequested(ILogger logger, Guid subscriptionId, string offerId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Activation of {SubscriptionId} refused with {StatusCode} (request {RequestId})")]
        public static partial void ActivationRefused(ILogger logger, Guid subscriptionId, int statusCode, string requestId);
    }
}
