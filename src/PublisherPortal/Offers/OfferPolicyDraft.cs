namespace PublisherPortal.Offers;

/// <summary>
/// The settings page's editable copy of an <see cref="OfferPolicy"/>: mutable, because MudBlazor inputs bind to it.
/// Nothing here is stored until <see cref="ToPolicy"/> goes through <see cref="OfferSettings.SaveAsync"/>.
/// </summary>
public sealed class OfferPolicyDraft
{
    public string OfferId { get; set; } = "";
    public ActivationMode Activation { get; set; }
    public bool AcceptChanges { get; set; } = true;
    public List<PlanMoveDraft> AllowedPlanMoves { get; set; } = [];
    public MinimumSeatsRule MinimumSeats { get; set; }
    public int? MinimumSeatsFixed { get; set; }
    public List<CustomFieldDraft> CustomFields { get; set; } = [];

    /// <summary>The version the editor read; the save is refused if another admin saved since.</summary>
    public long ReadVersion { get; set; }

    public static OfferPolicyDraft From(OfferPolicy policy) => new()
    {
        OfferId = policy.OfferId,
        Activation = policy.Activation,
        AcceptChanges = policy.AcceptChanges,
        AllowedPlanMoves = policy.AllowedPlanMoves.Select(m => new PlanMoveDraft { From = m.From, To = m.To }).ToList(),
        MinimumSeats = policy.MinimumSeats,
        MinimumSeatsFixed = policy.MinimumSeatsFixed,
        CustomFields = policy.CustomFields.Select(CustomFieldDraft.From).ToList(),
        ReadVersion = policy.Version,
    };

    public OfferPolicy ToPolicy() => new()
    {
        OfferId = OfferId,
        Activation = Activation,
        AcceptChanges = AcceptChanges,
        AllowedPlanMoves = AllowedPlanMoves.Select(m => new PlanMove(m.From?.Trim() ?? "", m.To?.Trim() ?? "")).ToList(),
        MinimumSeats = MinimumSeats,
        MinimumSeatsFixed = MinimumSeats == MinimumSeatsRule.Fixed ? MinimumSeatsFixed : null,
        CustomFields = CustomFields.Select(f => f.ToField()).ToList(),
        Version = ReadVersion,
    };
}

public sealed class PlanMoveDraft
{
    public string? From { get; set; }
    public string? To { get; set; }
}

public sealed class CustomFieldDraft
{
    public string Name { get; set; } = "";
    public string Label { get; set; } = "";
    public CustomFieldType Type { get; set; }
    public bool Required { get; set; }
    public string? HelpText { get; set; }
    public string? Pattern { get; set; }
    public int? MinLength { get; set; }
    public int? MaxLength { get; set; }
    public decimal? Min { get; set; }
    public decimal? Max { get; set; }

    /// <summary>Choice options, one per line: easier to edit than a list of inputs.</summary>
    public string OptionLines { get; set; } = "";

    public static CustomFieldDraft From(CustomField f) => new()
    {
        Name = f.Name,
        Label = f.Label,
        Type = f.Type,
        Required = f.Required,
        HelpText = f.HelpText,
        Pattern = f.Pattern,
        MinLength = f.MinLength,
        MaxLength = f.MaxLength,
        Min = f.Min,
        Max = f.Max,
        OptionLines = string.Join('\n', f.Options),
    };

    /// <summary>Only the settings that belong to the type are kept, so a field switched from text to number drops its pattern.</summary>
    public CustomField ToField() => new()
    {
        Name = Name.Trim(),
        Label = Label.Trim(),
        Type = Type,
        Required = Required,
        HelpText = string.IsNullOrWhiteSpace(HelpText) ? null : HelpText.Trim(),
        Pattern = Type == CustomFieldType.Text && !string.IsNullOrWhiteSpace(Pattern) ? Pattern.Trim() : null,
        MinLength = Type == CustomFieldType.Text ? MinLength : null,
        MaxLength = Type == CustomFieldType.Text ? MaxLength : null,
        Min = Type == CustomFieldType.Number ? Min : null,
        Max = Type == CustomFieldType.Number ? Max : null,
        Options = Type == CustomFieldType.Choice
            ? OptionLines.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList()
            : [],
    };
}
