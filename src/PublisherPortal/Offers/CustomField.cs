using System.Globalization;
using System.Net.Mail;
using System.Text.RegularExpressions;

namespace PublisherPortal.Offers;

public enum CustomFieldType
{
    Text,
    Number,
    Choice,
    Email,
}

/// <summary>
/// A question the activation wizard asks for one offer. Answers are kept as text in subscriptions.account_settings, and
/// <see cref="Validate"/> is the one rule both the form and the server apply, so the two never disagree.
/// </summary>
public sealed record CustomField
{
    /// <summary>
    /// The built-in answer the "seats in use" minimum reads when the product does not report its seat use: the account
    /// configuration records it (docs/marketplace.md#webhook-actions leaves refusing a seat change to us).
    /// </summary>
    public const string SeatsInUseName = "seats-in-use";

    /// <summary>Names are keys in stored JSON and test ids in the page: lower-case letters, digits and dashes.</summary>
    private static readonly Regex NameRule = new("^[a-z][a-z0-9-]{0,39}$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

    /// <summary>An admin's pattern runs on customer input: a bound keeps a careless one from hanging a request.</summary>
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(200);

    public string Name { get; init; } = "";
    public string Label { get; init; } = "";
    public CustomFieldType Type { get; init; } = CustomFieldType.Text;
    public bool Required { get; init; }
    public string? HelpText { get; init; }

    /// <summary>Text: a regular expression the whole answer must match.</summary>
    public string? Pattern { get; init; }
    public int? MinLength { get; init; }
    public int? MaxLength { get; init; }

    /// <summary>Number: inclusive bounds.</summary>
    public decimal? Min { get; init; }
    public decimal? Max { get; init; }

    /// <summary>Choice: the answers offered.</summary>
    public IReadOnlyList<string> Options { get; init; } = [];

    /// <summary>The built-in "seats in use" question, a whole number of 0 or more.</summary>
    public static CustomField SeatsInUse() => new()
    {
        Name = SeatsInUseName,
        Label = "Seats in use today",
        Type = CustomFieldType.Number,
        Required = true,
        Min = 0,
        HelpText = "How many people use the product now; seat reductions below this are refused.",
    };

    /// <summary>Why <paramref name="answer"/> is not acceptable, in the customer's words; null when it is.</summary>
    public string? Validate(string? answer)
    {
        var value = answer?.Trim() ?? "";
        if (value.Length == 0)
        {
            return Required ? $"{Label} is required." : null;
        }

        switch (Type)
        {
            case CustomFieldType.Number:
                if (!decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out var number))
                {
                    return $"{Label} must be a number.";
                }

                if (Min is { } min && number < min)
                {
                    return $"{Label} must be at least {min.ToString(CultureInfo.InvariantCulture)}.";
                }

                if (Max is { } max && number > max)
                {
                    return $"{Label} must be at most {max.ToString(CultureInfo.InvariantCulture)}.";
                }

                return null;

            case CustomFieldType.Email:
                return IsEmail(value) ? null : $"{Label} must be an e-mail address.";

            case CustomFieldType.Choice:
                return Options.Contains(value, StringComparer.Ordinal) ? null : $"Choose one of the offered answers for {Label}.";

            default:
                if (MinLength is { } shortest && value.Length < shortest)
                {
                    return $"{Label} needs at least {shortest} characters.";
                }

                if (MaxLength is { } longest && value.Length > longest)
                {
                    return $"{Label} allows at most {longest} characters.";
                }

                if (Pattern is { Length: > 0 } pattern && !MatchesWhole(pattern, value))
                {
                    return $"{Label} is not in the expected format.";
                }

                return null;
        }
    }

    /// <summary>Settings an admin got wrong; empty when the field can be offered to customers.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        var name = string.IsNullOrWhiteSpace(Name) ? "(unnamed)" : Name;
        if (!NameRule.IsMatch(Name))
        {
            problems.Add($"Field \"{name}\": the name must start with a letter and use only lower-case letters, digits and dashes (at most 40).");
        }

        if (string.IsNullOrWhiteSpace(Label))
        {
            problems.Add($"Field \"{name}\" needs a label the customer reads.");
        }

        if (Type == CustomFieldType.Choice && Options.Count(o => !string.IsNullOrWhiteSpace(o)) < 2)
        {
            problems.Add($"Field \"{name}\" is a choice and needs at least two options.");
        }

        if (Min is { } min && Max is { } max && min > max)
        {
            problems.Add($"Field \"{name}\": the minimum is above the maximum.");
        }

        if (MinLength is { } shortest && MaxLength is { } longest && shortest > longest)
        {
            problems.Add($"Field \"{name}\": the shortest length is above the longest.");
        }

        if (Pattern is { Length: > 0 } pattern)
        {
            try
            {
                _ = new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout);
            }
            catch (ArgumentException)
            {
                problems.Add($"Field \"{name}\": the pattern is not a valid regular expression.");
            }
        }

        return problems;
    }

    /// <summary>The rule in words, for the settings summary and the audit trail.</summary>
    public string Rule => Type switch
    {
        CustomFieldType.Number => $"number{Bounds(Min, Max)}",
        CustomFieldType.Choice => $"choice of {string.Join(" / ", Options)}",
        CustomFieldType.Email => "e-mail",
        _ => "text" + Bounds(MinLength, MaxLength) + (Pattern is { Length: > 0 } p ? $" matching {p}" : ""),
    } + (Required ? ", required" : ", optional");

    public static string Describe(IReadOnlyList<CustomField> fields) =>
        fields.Count == 0 ? "none" : string.Join("; ", fields.Select(f => $"{f.Name} ({f.Rule})"));

    private static string Bounds<T>(T? low, T? high) where T : struct, IFormattable => (low, high) switch
    {
        (null, null) => "",
        ({ } l, null) => $" ≥ {l.ToString(null, CultureInfo.InvariantCulture)}",
        (null, { } h) => $" ≤ {h.ToString(null, CultureInfo.InvariantCulture)}",
        ({ } l, { } h) => $" {l.ToString(null, CultureInfo.InvariantCulture)}–{h.ToString(null, CultureInfo.InvariantCulture)}",
    };

    private static bool MatchesWhole(string pattern, string value)
    {
        try
        {
            return Regex.IsMatch(value, $"^(?:{pattern})$", RegexOptions.CultureInvariant, PatternTimeout);
        }
        catch (Exception e) when (e is ArgumentException or RegexMatchTimeoutException)
        {
            // A broken or runaway pattern is the admin's mistake; the customer is not blocked by it.
            return true;
        }
    }

    private static bool IsEmail(string value)
    {
        if (value.Contains(' ', StringComparison.Ordinal) || !value.Contains('@', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            var address = new MailAddress(value);
            return address.Address == value && address.Host.Contains('.', StringComparison.Ordinal);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
