namespace PublisherPortal.Offers;

/// <summary>A customer's answers to an offer's custom fields, judged by the same rules the form shows.</summary>
public static class CustomAnswers
{
    /// <summary>Every answer that breaks its field's rule, in the customer's words; empty when all are acceptable.</summary>
    public static IReadOnlyList<string> Problems(IReadOnlyList<CustomField> fields, IReadOnlyDictionary<string, string?> answers) =>
        fields.Select(f => f.Validate(answers.GetValueOrDefault(f.Name))).OfType<string>().ToList();

    /// <summary>The answers to the offer's fields only, trimmed; anything else a caller sent is not stored.</summary>
    public static Dictionary<string, string?> Keep(IReadOnlyList<CustomField> fields, IReadOnlyDictionary<string, string?> answers) =>
        fields.Where(f => !string.IsNullOrWhiteSpace(answers.GetValueOrDefault(f.Name)))
            .ToDictionary(f => f.Name, f => (string?)answers[f.Name]!.Trim(), StringComparer.Ordinal);
}
