using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Marketplace.Models;
using Microsoft.Extensions.Logging;

namespace Marketplace.Emulator;

/// <summary>
/// The marketplace's memory and its rules: subscriptions, operations, landing-page tokens, and the life cycle of
/// docs/marketplace.md#life-cycle (PendingFulfillmentStart → Subscribed ⇄ Suspended → Unsubscribed). Both the fulfillment API (the
/// publisher's side) and the simulator (Microsoft's and the customer's side) go through here, under one lock, so the two
/// sides never see a half-made change. Every change is snapshotted to DataDirectory when one is set.
/// </summary>
internal sealed partial class SubscriptionBook
{
    private const string SnapshotFileName = "emulator-state.json";

    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, MarketplaceSubscription> _subscriptions = [];
    private readonly Dictionary<Guid, OperationEntry> _operations = [];
    private readonly Dictionary<string, PurchaseTokenEntry> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, List<StatusUpdateReceived>> _statusUpdates = [];
    private readonly Dictionary<Guid, List<WebhookAttempt>> _attempts = [];
    private readonly EmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly string? _snapshotPath;

    public SubscriptionBook(EmulatorOptions options, TimeProvider time, ILogger log)
    {
        _options = options;
        _time = time;
        _log = log;
        _snapshotPath = options.DataDirectory is null ? null : Path.Combine(options.DataDirectory, SnapshotFileName);
        LoadSnapshot();
    }

    /// <summary>Raised (outside the lock) when an operation gets a moment at which it finishes by itself.</summary>
    public event Action<Guid, DateTimeOffset>? DueTimeSet;

    private DateTimeOffset Now => _time.GetUtcNow();

    // ---------------------------------------------------------------- customer / Microsoft side (simulator)

    public (MarketplaceSubscription Subscription, string Token, DateTimeOffset ExpiresAt) CreatePurchase(PurchaseRequest request)
    {
        var plan = FindPlan(request.OfferId, request.PlanId)
            ?? throw new SimulationRefusedException($"Offer '{request.OfferId}' has no plan '{request.PlanId}'.");
        if (plan.IsStopSell)
        {
            throw new SimulationRefusedException($"Plan '{plan.PlanId}' is no longer sold.");
        }

        int? quantity = null;
        if (plan.IsPricePerSeat)
        {
            quantity = request.Quantity ?? plan.MinQuantity ?? 1;
            if (!WithinBounds(plan, quantity.Value))
            {
                throw new SimulationRefusedException($"Plan '{plan.PlanId}' allows {plan.MinQuantity}–{plan.MaxQuantity} seats, not {quantity}.");
            }
        }

        var now = Now;
        var purchaser = request.Purchaser ?? request.Beneficiary;
        var subscription = new MarketplaceSubscription
        {
            Id = Guid.NewGuid(),
            PublisherId = request.PublisherId ?? _options.PublisherId,
            OfferId = request.OfferId,
            PlanId = plan.PlanId,
            Name = request.SubscriptionName ?? $"{plan.DisplayName} for {request.Beneficiary.TenantName}",
            SaasSubscriptionStatus = SubscriptionStatus.PendingFulfillmentStart,
            Beneficiary = ToParty(request.Beneficiary),
            Purchaser = ToParty(purchaser),
            Quantity = quantity,
            // The term is present before activation too (docs/marketplace.md#subscription-object); it becomes meaningful at activation.
            Term = new SubscriptionTerm { TermUnit = request.TermUnit, StartDate = now, EndDate = AddTerm(now, request.TermUnit) },
            AutoRenew = request.AutoRenew,
            IsTest = request.IsTest,
            IsFreeTrial = request.IsFreeTrial,
            AllowedCustomerOperations = request.AllowedCustomerOperations
                ?? (request.ThroughReseller ? ["Read"] : ["Read", "Update", "Delete"]),
            SandboxType = request.ThroughReseller ? "Csp" : "None",
            SessionMode = "None",
            Created = now,
        };

        lock (_gate)
        {
            _subscriptions[subscription.Id] = subscription;
            var (token, expiresAt) = AddToken(subscription.Id, now);
            Persist();
            return (subscription, token, expiresAt);
        }
    }

    public (string Token, DateTimeOffset ExpiresAt) IssueToken(Guid subscriptionId)
    {
        lock (_gate)
        {
            if (!_subscriptions.ContainsKey(subscriptionId))
            {
                throw new SimulationRefusedException($"Subscription {subscriptionId} does not exist.", notFound: true);
            }

            var issued = AddToken(subscriptionId, Now);
            Persist();
            return issued;
        }
    }

    public void ExpireToken(string token)
    {
        lock (_gate)
        {
            if (_tokens.TryGetValue(token, out var entry))
            {
                _tokens[token] = entry with { ExpiresAt = Now.AddSeconds(-1) };
                Persist();
            }
        }
    }

    /// <summary>A change the customer makes in the marketplace: InProgress until the publisher answers, or accepted by
    /// itself (docs/marketplace.md#answering-deliveries).</summary>
    public (MarketplaceOperation Operation, MarketplaceSubscription Before) StartCustomerChange(Guid subscriptionId, string? planId, int? quantity)
    {
        lock (_gate)
        {
            SettleDue();
            var subscription = RequireSubscription(subscriptionId);
            RequireNoPendingOperation(subscription.Id);
            var refusal = CheckChange(subscription, planId, quantity, checkCustomerPermission: false);
            if (refusal is not null)
            {
                throw new SimulationRefusedException(refusal.Message);
            }

            var operation = NewOperation(subscription, planId is null ? "ChangeQuantity" : "ChangePlan", "Azure",
                planId ?? subscription.PlanId, quantity ?? QuantityOnPlan(subscription, planId), OperationStatus.InProgress);
            var due = Now + _options.AutoAcceptAfter;
            _operations[operation.Id] = new OperationEntry { Operation = operation, DueAt = due };
            Persist();
            RaiseDue(operation.Id, due);
            return (operation, subscription);
        }
    }

    /// <summary>Renew, Suspend and Unsubscribe happen first and are told afterwards, with status Succeeded
    /// (docs/marketplace.md#webhook-actions).</summary>
    public (MarketplaceOperation Operation, MarketplaceSubscription After) ApplyMarketplaceAction(Guid subscriptionId, OperationAction action)
    {
        lock (_gate)
        {
            SettleDue();
            var subscription = RequireSubscription(subscriptionId);
            var now = Now;
            MarketplaceSubscription after;
            switch (action)
            {
                case OperationAction.Renew:
                    RequireStatus(subscription, SubscriptionStatus.Subscribed, "renewed");
                    RequireNoPendingOperation(subscription.Id);
                    var start = subscription.Term?.EndDate is { } end && end > now ? end : now;
                    after = subscription with { Term = (subscription.Term ?? new SubscriptionTerm()) with { StartDate = start, EndDate = AddTerm(start, subscription.Term?.TermUnit) } };
                    break;
                case OperationAction.Suspend:
                    RequireStatus(subscription, SubscriptionStatus.Subscribed, "suspended");
                    RequireNoPendingOperation(subscription.Id);
                    after = subscription with { SaasSubscriptionStatus = SubscriptionStatus.Suspended };
                    break;
                case OperationAction.Unsubscribe:
                    if (subscription.SaasSubscriptionStatus == SubscriptionStatus.Unsubscribed)
                    {
                        throw new SimulationRefusedException($"Subscription {subscription.Id} is already Unsubscribed.");
                    }

                    // Whatever was still in flight can no longer happen.
                    FailPendingOperations(subscription.Id, "The subscription was unsubscribed.");
                    after = subscription with { SaasSubscriptionStatus = SubscriptionStatus.Unsubscribed };
                    break;
                default:
                    throw new SimulationRefusedException($"{action} is not applied directly.");
            }

            _subscriptions[after.Id] = after;
            var operation = NewOperation(after, action.ToString(), "Azure", after.PlanId, after.Quantity, OperationStatus.Succeeded);
            _operations[operation.Id] = new OperationEntry { Operation = operation };
            Persist();
            return (operation, after);
        }
    }

    /// <summary>Reinstate stays InProgress until the publisher restores access and PATCHes Success (or cancels instead).</summary>
    public (MarketplaceOperation Operation, MarketplaceSubscription Before) StartReinstate(Guid subscriptionId)
    {
        lock (_gate)
        {
            SettleDue();
            var subscription = RequireSubscription(subscriptionId);
            RequireStatus(subscription, SubscriptionStatus.Suspended, "reinstated");
            RequireNoPendingOperation(subscription.Id);
            var operation = NewOperation(subscription, nameof(OperationAction.Reinstate), "Azure", subscription.PlanId, subscription.Quantity, OperationStatus.InProgress);
            _operations[operation.Id] = new OperationEntry { Operation = operation };
            Persist();
            return (operation, subscription);
        }
    }

    /// <summary>A 4xx answer to a ChangePlan/ChangeQuantity delivery means the publisher refused it
    /// (docs/marketplace.md#answering-deliveries).</summary>
    public void RefuseByDeliveryAnswer(Guid operationId, int statusCode) =>
        FailIfInProgress(operationId, statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"The publisher refused the change by answering the webhook with {statusCode}.");

    /// <summary>After the last retry the operation fails on Microsoft's side (docs/marketplace.md#answering-deliveries).</summary>
    public void GiveUpDelivery(Guid operationId) =>
        FailIfInProgress(operationId, null, "The webhook could not be delivered.");

    public void RecordAttempt(WebhookAttempt attempt)
    {
        lock (_gate)
        {
            ListFor(_attempts, attempt.OperationId).Add(attempt);
            Persist();
        }
    }

    public IReadOnlyList<WebhookAttempt> DeliveriesFor(Guid operationId)
    {
        lock (_gate)
        {
            return _attempts.TryGetValue(operationId, out var list) ? [.. list] : [];
        }
    }

    public IReadOnlyList<StatusUpdateReceived> StatusUpdatesFor(Guid operationId)
    {
        lock (_gate)
        {
            return _statusUpdates.TryGetValue(operationId, out var list) ? [.. list] : [];
        }
    }

    public MarketplaceSubscription? Find(Guid subscriptionId)
    {
        lock (_gate)
        {
            SettleDue();
            return _subscriptions.GetValueOrDefault(subscriptionId);
        }
    }

    public MarketplaceOperation? FindOperation(Guid operationId)
    {
        lock (_gate)
        {
            SettleDue();
            return _operations.GetValueOrDefault(operationId)?.Operation;
        }
    }

    public IReadOnlyList<MarketplaceSubscription> AllSubscriptions()
    {
        lock (_gate)
        {
            SettleDue();
            return [.. _subscriptions.Values.OrderBy(s => s.Created).ThenBy(s => s.Id)];
        }
    }

    public IReadOnlyList<MarketplaceOperation> OperationsOf(Guid subscriptionId)
    {
        lock (_gate)
        {
            SettleDue();
            return [.. _operations.Values.Select(e => e.Operation).Where(o => o.SubscriptionId == subscriptionId).OrderBy(o => o.TimeStamp)];
        }
    }

    /// <summary>Finishes every operation whose moment has come; called by timers and before every read.</summary>
    public void Settle()
    {
        lock (_gate)
        {
            SettleDue();
        }
    }

    /// <summary>Operations still waiting for their moment, for timers to be set again after a restart.</summary>
    public IReadOnlyList<(Guid OperationId, DateTimeOffset DueAt)> PendingDueTimes()
    {
        lock (_gate)
        {
            return [.. _operations.Values.Where(e => e.DueAt is not null && e.Operation.Status == OperationStatus.InProgress)
                .Select(e => (e.Operation.Id, e.DueAt!.Value))];
        }
    }

    public Plan? FindPlan(string offerId, string planId) =>
        _options.Catalogue.FirstOrDefault(o => o.OfferId == offerId)?.Plans.FirstOrDefault(p => p.PlanId == planId);

    // ---------------------------------------------------------------- publisher side (fulfillment API)

    public ApiResult<ResolvedPurchase> Resolve(string? token)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return ApiRefusal.BadRequest("The x-ms-marketplace-token header is missing.");
        }

        lock (_gate)
        {
            if (!_tokens.TryGetValue(token.Trim(), out var entry) || !_subscriptions.TryGetValue(entry.SubscriptionId, out var subscription))
            {
                return ApiRefusal.BadRequest("The marketplace token is invalid.");
            }

            if (entry.ExpiresAt <= Now)
            {
                return ApiRefusal.BadRequest("The marketplace token has expired.");
            }

            if (subscription.PublisherId != _options.PublisherId)
            {
                return ApiRefusal.Forbidden("The marketplace token belongs to another publisher.");
            }

            return ApiResult<ResolvedPurchase>.Ok(new ResolvedPurchase
            {
                Id = subscription.Id,
                SubscriptionName = subscription.Name,
                OfferId = subscription.OfferId,
                PlanId = subscription.PlanId,
                Quantity = subscription.Quantity,
                Subscription = subscription,
            });
        }
    }

    /// <summary>
    /// The emulator applies an activation at once (the contract's 200 only means "received"; a client that confirms with
    /// Get simply sees it done). The body is accepted but not compared with the purchase: the current docs send none.
    /// </summary>
    public ApiResult<MarketplaceSubscription> Activate(Guid subscriptionId)
    {
        lock (_gate)
        {
            SettleDue();
            if (Visible(subscriptionId) is not { } subscription || subscription.SaasSubscriptionStatus == SubscriptionStatus.Unsubscribed)
            {
                return ApiRefusal.NotFound($"Subscription {subscriptionId} was not found.");
            }

            if (subscription.SaasSubscriptionStatus == SubscriptionStatus.Suspended)
            {
                return ApiRefusal.BadRequest($"Subscription {subscriptionId} is Suspended and cannot be activated.");
            }

            if (subscription.SaasSubscriptionStatus == SubscriptionStatus.Subscribed)
            {
                return ApiResult<MarketplaceSubscription>.Ok(subscription);
            }

            var now = Now;
            var activated = subscription with
            {
                SaasSubscriptionStatus = SubscriptionStatus.Subscribed,
                Term = (subscription.Term ?? new SubscriptionTerm()) with { StartDate = now, EndDate = AddTerm(now, subscription.Term?.TermUnit) },
            };
            _subscriptions[activated.Id] = activated;
            Persist();
            return ApiResult<MarketplaceSubscription>.Ok(activated);
        }
    }

    /// <summary>The publisher's subscriptions in a stable order (created, then id), so continuation by position is safe.</summary>
    public IReadOnlyList<MarketplaceSubscription> ListForPublisher()
    {
        lock (_gate)
        {
            SettleDue();
            return [.. _subscriptions.Values.Where(s => s.PublisherId == _options.PublisherId).OrderBy(s => s.Created).ThenBy(s => s.Id)];
        }
    }

    public ApiResult<MarketplaceSubscription> Get(Guid subscriptionId)
    {
        lock (_gate)
        {
            SettleDue();
            return Visible(subscriptionId) is { } subscription
                ? ApiResult<MarketplaceSubscription>.Ok(subscription)
                : ApiRefusal.NotFound($"Subscription {subscriptionId} was not found.");
        }
    }

    public ApiResult<PlanList> AvailablePlans(Guid subscriptionId, string? planId)
    {
        lock (_gate)
        {
            SettleDue();
            if (Visible(subscriptionId) is not { } subscription)
            {
                return ApiRefusal.NotFound($"Subscription {subscriptionId} was not found.");
            }

            var offer = _options.Catalogue.FirstOrDefault(o => o.OfferId == subscription.OfferId);
            var plans = (offer?.Plans ?? []).Where(p => !p.IsStopSell || p.PlanId == subscription.PlanId);
            if (planId is null)
            {
                return ApiResult<PlanList>.Ok(new PlanList { Plans = [.. plans] });
            }

            // Asked for one plan, the service adds where it comes from: the private offer for private plans
            // (docs/marketplace.md#list-available-plans).
            return ApiResult<PlanList>.Ok(new PlanList
            {
                Plans = [.. plans.Where(p => p.PlanId == planId).Select(p => p with
                {
                    SourceOffers = p.IsPrivate ? [new SourceOffer { ExternalId = $"{subscription.OfferId}-private-{p.PlanId}" }] : [],
                })],
            });
        }
    }

    public ApiResult<MarketplaceOperation> RequestChange(Guid subscriptionId, string? planId, int? quantity)
    {
        lock (_gate)
        {
            SettleDue();
            if (Visible(subscriptionId) is not { } subscription)
            {
                return ApiRefusal.NotFound($"Subscription {subscriptionId} was not found.");
            }

            if (HasPendingOperation(subscriptionId))
            {
                // Microsoft's sample emulator answers a PATCH during a pending operation with this 400 (docs/marketplace.md#pending-operations).
                return ApiRefusal.BadRequest($"Subscription {subscriptionId} is locked due to pending operations.");
            }

            if (CheckChange(subscription, planId, quantity, checkCustomerPermission: true) is { } refusal)
            {
                return refusal;
            }

            var operation = NewOperation(subscription, planId is null ? "ChangeQuantity" : "ChangePlan", "Partner",
                planId ?? subscription.PlanId, quantity ?? QuantityOnPlan(subscription, planId), OperationStatus.InProgress);
            var due = Now + _options.OperationDelay;
            _operations[operation.Id] = new OperationEntry { Operation = operation, DueAt = due };
            Persist();
            RaiseDue(operation.Id, due);
            return ApiResult<MarketplaceOperation>.Ok(operation);
        }
    }

    /// <summary>
    /// Cancel. Decisions where the contract is silent: an already Unsubscribed subscription gives 400; a pending Reinstate
    /// does not block (the contract names DELETE as the publisher's way to decline a reinstatement) and is failed by it.
    /// </summary>
    public ApiResult<MarketplaceOperation> RequestDelete(Guid subscriptionId)
    {
        lock (_gate)
        {
            SettleDue();
            if (Visible(subscriptionId) is not { } subscription)
            {
                return ApiRefusal.NotFound($"Subscription {subscriptionId} was not found.");
            }

            if (subscription.SaasSubscriptionStatus == SubscriptionStatus.Unsubscribed)
            {
                return ApiRefusal.BadRequest($"Subscription {subscriptionId} is already Unsubscribed.");
            }

            if (!subscription.Allows("Delete"))
            {
                return ApiRefusal.BadRequest($"Delete is not an allowed customer operation for subscription {subscriptionId}.");
            }

            var pending = PendingOperations(subscriptionId).ToList();
            if (pending.Any(e => e.Operation.KnownAction != OperationAction.Reinstate))
            {
                return ApiRefusal.Conflict($"Subscription {subscriptionId} is locked due to pending operations.");
            }

            FailPendingOperations(subscriptionId, "The publisher cancelled the subscription instead.");
            var operation = NewOperation(subscription, nameof(OperationAction.Unsubscribe), "Partner", subscription.PlanId, subscription.Quantity, OperationStatus.InProgress);
            var due = Now + _options.OperationDelay;
            _operations[operation.Id] = new OperationEntry { Operation = operation, DueAt = due };
            Persist();
            RaiseDue(operation.Id, due);
            return ApiResult<MarketplaceOperation>.Ok(operation);
        }
    }

    public ApiResult<IReadOnlyList<MarketplaceOperation>> OutstandingOperations(Guid subscriptionId)
    {
        lock (_gate)
        {
            SettleDue();
            if (Visible(subscriptionId) is null)
            {
                return ApiRefusal.NotFound($"Subscription {subscriptionId} was not found.");
            }

            return ApiResult<IReadOnlyList<MarketplaceOperation>>.Ok([.. PendingOperations(subscriptionId).Select(e => e.Operation).OrderBy(o => o.TimeStamp)]);
        }
    }

    public ApiResult<MarketplaceOperation> GetOperation(Guid subscriptionId, Guid operationId)
    {
        lock (_gate)
        {
            SettleDue();
            return Visible(subscriptionId) is not null && _operations.TryGetValue(operationId, out var entry) && entry.Operation.SubscriptionId == subscriptionId
                ? ApiResult<MarketplaceOperation>.Ok(entry.Operation)
                : ApiRefusal.NotFound($"Operation {operationId} was not found for subscription {subscriptionId}.");
        }
    }

    /// <summary>
    /// The publisher's answer to an operation (docs/marketplace.md#acknowledging-operations). Decisions where the
    /// contract is vague: repeating the answer
    /// already applied is 200 (a retried PATCH must be harmless); an answer contradicting how the operation ended is 409;
    /// the publisher's own operations (source Partner) cannot be answered (400 — the real service has even said 500).
    /// Every PATCH is recorded with the code it got, so tests can prove the portal sent exactly one.
    /// </summary>
    public ApiResult<MarketplaceOperation> UpdateOperationStatus(Guid subscriptionId, Guid operationId, string? status)
    {
        lock (_gate)
        {
            SettleDue();
            var result = DecideStatusUpdate(subscriptionId, operationId, status?.Trim());
            ListFor(_statusUpdates, operationId).Add(new StatusUpdateReceived(operationId, status ?? "", Now, result.Refusal?.StatusCode ?? 200));
            Persist();
            return result;
        }
    }

    private ApiResult<MarketplaceOperation> DecideStatusUpdate(Guid subscriptionId, Guid operationId, string? status)
    {
        if (Visible(subscriptionId) is null || !_operations.TryGetValue(operationId, out var entry) || entry.Operation.SubscriptionId != subscriptionId)
        {
            return ApiRefusal.NotFound($"Operation {operationId} was not found for subscription {subscriptionId}.");
        }

        var success = string.Equals(status, "Success", StringComparison.OrdinalIgnoreCase);
        if (!success && !string.Equals(status, "Failure", StringComparison.OrdinalIgnoreCase))
        {
            return ApiRefusal.BadRequest("The status must be Success or Failure.");
        }

        if (entry.Operation.RequestSource == "Partner")
        {
            return ApiRefusal.BadRequest("Operations requested by the publisher are not acknowledged by the publisher.");
        }

        var operation = entry.Operation;
        if (operation.Status == OperationStatus.InProgress)
        {
            entry.DueAt = null;
            if (success)
            {
                Complete(entry, $"Accepted by the publisher.");
            }
            else
            {
                entry.Operation = operation with { Status = OperationStatus.Failed, ErrorMessage = "Refused by the publisher." };
            }

            return ApiResult<MarketplaceOperation>.Ok(entry.Operation);
        }

        var sameOutcome = success ? operation.Status == OperationStatus.Succeeded : operation.Status == OperationStatus.Failed;
        return sameOutcome
            ? ApiResult<MarketplaceOperation>.Ok(operation)
            : ApiRefusal.Conflict($"Operation {operationId} was already completed with status {operation.Status}.");
    }

    // ---------------------------------------------------------------- rules

    private ApiRefusal? CheckChange(MarketplaceSubscription subscription, string? planId, int? quantity, bool checkCustomerPermission)
    {
        if (planId is not null && quantity is not null)
        {
            return ApiRefusal.BadRequest("Change the plan or the quantity, not both in one request.");
        }

        if (planId is null && quantity is null)
        {
            return ApiRefusal.BadRequest("The request must carry a planId or a quantity.");
        }

        if (subscription.SaasSubscriptionStatus != SubscriptionStatus.Subscribed)
        {
            return ApiRefusal.BadRequest($"Subscription {subscription.Id} is {subscription.SaasSubscriptionStatus}; only Subscribed subscriptions can change.");
        }

        if (checkCustomerPermission && !subscription.Allows("Update"))
        {
            return ApiRefusal.BadRequest($"Update is not an allowed customer operation for subscription {subscription.Id}.");
        }

        if (planId is not null)
        {
            var plan = FindPlan(subscription.OfferId, planId);
            if (plan is null || plan.IsStopSell)
            {
                return ApiRefusal.BadRequest($"Plan '{planId}' is not available for subscription {subscription.Id}.");
            }

            return plan.PlanId == subscription.PlanId
                ? ApiRefusal.BadRequest($"Subscription {subscription.Id} is already on plan '{planId}'.")
                : null;
        }

        var current = FindPlan(subscription.OfferId, subscription.PlanId);
        if (current is null || !current.IsPricePerSeat)
        {
            return ApiRefusal.BadRequest($"Plan '{subscription.PlanId}' is not priced per seat; its quantity cannot change.");
        }

        if (!WithinBounds(current, quantity!.Value))
        {
            return ApiRefusal.BadRequest($"Quantity {quantity} is outside the plan's bounds ({current.MinQuantity}–{current.MaxQuantity}).");
        }

        return quantity == subscription.Quantity
            ? ApiRefusal.BadRequest($"Subscription {subscription.Id} already has quantity {quantity}.")
            : null;
    }

    /// <summary>Seats after a plan change: kept within the new plan's bounds, dropped for a flat plan.</summary>
    private int? QuantityOnPlan(MarketplaceSubscription subscription, string? newPlanId)
    {
        if (newPlanId is null)
        {
            return subscription.Quantity;
        }

        var plan = FindPlan(subscription.OfferId, newPlanId);
        if (plan is null || !plan.IsPricePerSeat)
        {
            return null;
        }

        return Math.Clamp(subscription.Quantity ?? plan.MinQuantity ?? 1, plan.MinQuantity ?? 1, plan.MaxQuantity ?? int.MaxValue);
    }

    private static bool WithinBounds(Plan plan, int quantity) =>
        quantity >= (plan.MinQuantity ?? 1) && quantity <= (plan.MaxQuantity ?? int.MaxValue);

    /// <summary>Applies a successful operation to its subscription; a subscription that moved on meanwhile fails it instead.</summary>
    private void Complete(OperationEntry entry, string reason)
    {
        var operation = entry.Operation;
        if (!_subscriptions.TryGetValue(operation.SubscriptionId, out var subscription))
        {
            entry.Operation = operation with { Status = OperationStatus.Failed, ErrorMessage = "The subscription no longer exists." };
            return;
        }

        MarketplaceSubscription? changed = operation.KnownAction switch
        {
            OperationAction.ChangePlan when subscription.SaasSubscriptionStatus == SubscriptionStatus.Subscribed =>
                subscription with { PlanId = operation.PlanId ?? subscription.PlanId, Quantity = QuantityOnPlan(subscription, operation.PlanId) },
            OperationAction.ChangeQuantity when subscription.SaasSubscriptionStatus == SubscriptionStatus.Subscribed =>
                subscription with { Quantity = operation.Quantity },
            OperationAction.Reinstate when subscription.SaasSubscriptionStatus == SubscriptionStatus.Suspended =>
                subscription with { SaasSubscriptionStatus = SubscriptionStatus.Subscribed },
            OperationAction.Unsubscribe => subscription with { SaasSubscriptionStatus = SubscriptionStatus.Unsubscribed },
            _ => null,
        };

        if (changed is null)
        {
            entry.Operation = operation with { Status = OperationStatus.Failed, ErrorMessage = $"Subscription is {subscription.SaasSubscriptionStatus}; the {operation.Action} could not be applied." };
            return;
        }

        if (operation.KnownAction == OperationAction.ChangePlan && subscription.PlanId == operation.PlanId)
        {
            // Conflict = the new plan equals the current one (docs/marketplace.md#polling-operations).
            entry.Operation = operation with { Status = OperationStatus.Conflict };
            return;
        }

        _subscriptions[changed.Id] = changed;
        entry.Operation = operation with { Status = OperationStatus.Succeeded };
        LogCompleted(_log, operation.Id, operation.Action, reason);
    }

    private void SettleDue()
    {
        var now = Now;
        var changed = false;
        foreach (var entry in _operations.Values)
        {
            if (entry.DueAt is { } due && due <= now && entry.Operation.Status == OperationStatus.InProgress)
            {
                entry.DueAt = null;
                Complete(entry, entry.Operation.RequestSource == "Azure" ? "Accepted by the marketplace: the publisher stayed silent." : "Finished by the marketplace.");
                changed = true;
            }
        }

        if (changed)
        {
            Persist();
        }
    }

    private void FailIfInProgress(Guid operationId, string? errorStatusCode, string message)
    {
        lock (_gate)
        {
            if (_operations.TryGetValue(operationId, out var entry) && entry.Operation.Status == OperationStatus.InProgress)
            {
                entry.DueAt = null;
                entry.Operation = entry.Operation with { Status = OperationStatus.Failed, ErrorStatusCode = errorStatusCode, ErrorMessage = message };
                Persist();
            }
        }
    }

    private void FailPendingOperations(Guid subscriptionId, string message)
    {
        foreach (var entry in PendingOperations(subscriptionId))
        {
            entry.DueAt = null;
            entry.Operation = entry.Operation with { Status = OperationStatus.Failed, ErrorMessage = message };
        }
    }

    private IEnumerable<OperationEntry> PendingOperations(Guid subscriptionId) =>
        _operations.Values.Where(e => e.Operation.SubscriptionId == subscriptionId
            && e.Operation.Status is OperationStatus.InProgress or OperationStatus.NotStarted).ToList();

    private bool HasPendingOperation(Guid subscriptionId) => PendingOperations(subscriptionId).Any();

    private void RequireNoPendingOperation(Guid subscriptionId)
    {
        if (HasPendingOperation(subscriptionId))
        {
            throw new SimulationRefusedException($"Subscription {subscriptionId} is locked due to pending operations.");
        }
    }

    private static void RequireStatus(MarketplaceSubscription subscription, SubscriptionStatus status, string verb)
    {
        if (subscription.SaasSubscriptionStatus != status)
        {
            throw new SimulationRefusedException($"Only a {status} subscription can be {verb}; {subscription.Id} is {subscription.SaasSubscriptionStatus}.");
        }
    }

    private MarketplaceSubscription RequireSubscription(Guid subscriptionId) =>
        _subscriptions.GetValueOrDefault(subscriptionId)
        ?? throw new SimulationRefusedException($"Subscription {subscriptionId} does not exist.", notFound: true);

    /// <summary>The publisher sees only its own subscriptions.</summary>
    private MarketplaceSubscription? Visible(Guid subscriptionId) =>
        _subscriptions.TryGetValue(subscriptionId, out var s) && s.PublisherId == _options.PublisherId ? s : null;

    private MarketplaceOperation NewOperation(MarketplaceSubscription subscription, string action, string source, string? planId, int? quantity, OperationStatus status) => new()
    {
        Id = Guid.NewGuid(),
        ActivityId = Guid.NewGuid(),
        SubscriptionId = subscription.Id,
        PublisherId = subscription.PublisherId,
        OfferId = subscription.OfferId,
        PlanId = planId,
        Quantity = quantity,
        Action = action,
        TimeStamp = Now,
        Status = status,
        OperationRequestSource = source,
    };

    private (string Token, DateTimeOffset ExpiresAt) AddToken(Guid subscriptionId, DateTimeOffset now)
    {
        // Opaque and full of '+', '/' and '=' like the real ones, so a landing page that forgets to URL-decode shows it.
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)) + "=";
        var expiresAt = now + _options.PurchaseTokenLifetime;
        _tokens[token] = new PurchaseTokenEntry(subscriptionId, expiresAt);
        return (token, expiresAt);
    }

    private void RaiseDue(Guid operationId, DateTimeOffset due) => DueTimeSet?.Invoke(operationId, due);

    private static Party ToParty(DemoIdentity person) => new()
    {
        EmailId = person.Email,
        ObjectId = person.ObjectId.ToString(),
        TenantId = person.TenantId,
        Puid = person.ObjectId.ToString("N")[..16].ToUpperInvariant(),
    };

    private static List<T> ListFor<T>(Dictionary<Guid, List<T>> lists, Guid key)
    {
        if (!lists.TryGetValue(key, out var list))
        {
            lists[key] = list = [];
        }

        return list;
    }

    internal static DateTimeOffset AddTerm(DateTimeOffset start, string? termUnit)
    {
        var match = TermPattern().Match(termUnit ?? "");
        if (!match.Success)
        {
            return start.AddMonths(1);
        }

        var n = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "Y" => start.AddYears(n),
            "D" => start.AddDays(n),
            _ => start.AddMonths(n),
        };
    }

    [GeneratedRegex("^P([0-9]{1,3})([YMD])$")]
    private static partial Regex TermPattern();

    // ---------------------------------------------------------------- snapshot

    private sealed record Snapshot
    {
        public List<MarketplaceSubscription> Subscriptions { get; init; } = [];
        public List<OperationEntry> Operations { get; init; } = [];
        public Dictionary<string, PurchaseTokenEntry> Tokens { get; init; } = [];
        public Dictionary<Guid, List<StatusUpdateReceived>> StatusUpdates { get; init; } = [];
        public Dictionary<Guid, List<WebhookAttempt>> Deliveries { get; init; } = [];
    }

    private void Persist()
    {
        if (_snapshotPath is null)
        {
            return;
        }

        var snapshot = new Snapshot
        {
            Subscriptions = [.. _subscriptions.Values],
            Operations = [.. _operations.Values],
            Tokens = new(_tokens),
            StatusUpdates = _statusUpdates.ToDictionary(p => p.Key, p => p.Value.ToList()),
            Deliveries = _attempts.ToDictionary(p => p.Key, p => p.Value.ToList()),
        };
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_snapshotPath)!);
            // Write aside and move, so a crash mid-write never leaves a torn snapshot for the next start.
            var temporary = _snapshotPath + ".tmp";
            File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(snapshot, MarketplaceJson.Options));
            File.Move(temporary, _snapshotPath, overwrite: true);
        }
        catch (IOException ex)
        {
            LogSnapshotFailed(_log, _snapshotPath, ex);
        }
    }

    private void LoadSnapshot()
    {
        if (_snapshotPath is null || !File.Exists(_snapshotPath))
        {
            return;
        }

        var snapshot = JsonSerializer.Deserialize<Snapshot>(File.ReadAllBytes(_snapshotPath), MarketplaceJson.Options) ?? new Snapshot();
        foreach (var subscription in snapshot.Subscriptions)
        {
            _subscriptions[subscription.Id] = subscription;
        }

        foreach (var entry in snapshot.Operations)
        {
            _operations[entry.Operation.Id] = entry;
        }

        foreach (var (token, entry) in snapshot.Tokens)
        {
            _tokens[token] = entry;
        }

        foreach (var (id, list) in snapshot.StatusUpdates)
        {
            _statusUpdates[id] = list;
        }

        foreach (var (id, list) in snapshot.Deliveries)
        {
            _attempts[id] = list;
        }

        LogSnapshotLoaded(_log, _subscriptions.Count, _operations.Count, _snapshotPath);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Operation {OperationId} ({Action}) completed: {Reason}")]
    private static partial void LogCompleted(ILogger log, Guid operationId, string action, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write the emulator state snapshot to {Path}")]
    private static partial void LogSnapshotFailed(ILogger log, string path, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Subscriptions} subscriptions and {Operations} operations from {Path}")]
    private static partial void LogSnapshotLoaded(ILogger log, int subscriptions, int operations, string path);
}
