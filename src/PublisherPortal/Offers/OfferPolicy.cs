using System.Globalization;

namespace PublisherPortal.Offers;

/// <summary>How a purchase of the offer becomes active.</summary>
public enum ActivationMode
{
    /// <summary>The customer's click at the end of the wizard activates (the portal's behaviour before policies).</summary>
    Automatic,

    /// <summary>The customer finishes the wizard; an operator approves (activate) or rejects (cancel).</summary>
    OperatorApproval,
}

/// <summary>The floor under a seat change the customer makes in the marketplace.</summary>
public enum MinimumSeatsRule
{
    None,

    /// <summary>A fixed number set by the publisher.</summary>
    Fixed,

    /// <summary>The seats the account uses, as the product reports them or the account configuration recorded them.</summary>
    SeatsInUse,
}

/// <summary>A plan move the publisher allows (docs/marketplace.md#webhook-actions: ChangePlan is ours to accept or refuse).</summary>
public sealed record PlanMove(string From, string To)
{
    public bool Matches(string from, string to) =>
        string.Equals(From, from, StringComparison.OrdinalIgnoreCase) && string.Equals(To, to, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => $"{From} → {To}";
}

/// <summary>
/// One offer's settings. <see cref="Version"/> 0 means "no row yet": the defaults, which are what the portal did before
/// offer settings existed, so offers nobody configured behave as they always did.
/// </summary>
public sealed record OfferPolicy
{
    public required string OfferId { get; init; }
    public ActivationMode Activation { get; init; } = ActivationMode.Automatic;
    public bool AcceptChanges { get; init; } = true;
    public IReadOnlyList<PlanMove> AllowedPlanMoves { get; init; } = [];
    public MinimumSeatsRule MinimumSeats { get; init; } = MinimumSeatsRule.None;
    public int? MinimumSeatsFixed { get; init; }
    public IReadOnlyList<CustomField> CustomFields { get; init; } = [];
    public long Version { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public string? UpdatedBy { get; init; }

    public static OfferPolicy DefaultFor(string offerId) => new() { OfferId = offerId };

    public bool RequiresApproval => Activation == ActivationMode.OperatorApproval;

    public bool IsDefault => Version == 0;

    public string ActivationText => Activation == ActivationMode.OperatorApproval ? "operator approval" : "automatic";

    public string ChangesText => !AcceptChanges
        ? "no plan or seat changes"
        : AllowedPlanMoves.Count == 0 ? "any plan move" : $"plan moves {string.Join(", ", AllowedPlanMoves)}";

    public string MinimumSeatsText => MinimumSeats switch
    {
        MinimumSeatsRule.Fixed => $"at least {MinimumSeatsFixed?.ToString(CultureInfo.InvariantCulture) ?? "?"} seats",
        MinimumSeatsRule.SeatsInUse => "no fewer seats than in use",
        _ => "no seat floor",
    };

    public string CustomFieldsText => CustomFields.Count == 0 ? "no custom fields" : string.Join(", ", CustomFields.Select(f => f.Label));

    /// <summary>One line for lists: what a reader needs to know about the offer's onboarding and change rules.</summary>
    public string Summary => $"Activation {ActivationText}; {ChangesText}; {MinimumSeatsText}; {CustomFieldsText}.";

    /// <summary>
    /// What changed from <paramref name="before"/> to this, one phrase per setting, for the audit trail. Empty when the
    /// two say the same.
    /// </summary>
    public IReadOnlyList<string> DifferencesFrom(OfferPolicy before)
    {
        var changes = new List<string>();
        void Compare(string what, string was, string now)
        {
            if (!string.Equals(was, now, StringComparison.Ordinal))
            {
                changes.Add($"{what}: {was} → {now}");
            }
        }

        Compare("activation", before.ActivationText, ActivationText);
        Compare("changes", before.ChangesText, ChangesText);
        Compare("minimum seats", before.MinimumSeatsText, MinimumSeatsText);
        Compare("custom fields", CustomField.Describe(before.CustomFields), CustomField.Describe(CustomFields));
        return changes;
    }

    /// <summary>Settings that cannot work, in an admin's words; empty when the policy may be saved.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (MinimumSeats == MinimumSeatsRule.Fixed && MinimumSeatsFixed is not > 0)
        {
            problems.Add("A fixed minimum needs a number of seats of 1 or more.");
        }

        if (AllowedPlanMoves.Any(m => string.IsNullOrWhiteSpace(m.From) || string.IsNullOrWhiteSpace(m.To)))
        {
            problems.Add("Every allowed plan move needs a plan it starts from and a plan it goes to.");
        }

        foreach (var field in CustomFields)
        {
            problems.AddRange(field.Problems());
        }

        foreach (var duplicate in CustomFields.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            problems.Add($"Two fields are named \"{duplicate.Key}\"; names must be unique.");
        }

        return problems;
    }
}
