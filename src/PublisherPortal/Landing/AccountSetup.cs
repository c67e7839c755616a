using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace PublisherPortal.Landing;

/// <summary>What the customer tells us while setting up their account. Mutable: the wizard's form binds to it.</summary>
public sealed class AccountSetup
{
    [Required(ErrorMessage = "Enter your organisation's name.")]
    [StringLength(200, ErrorMessage = "Keep the organisation name under 200 characters.")]
    [PublisherPortal.Security.PlainText("The organisation name")]
    public string OrganisationName { get; set; } = "";

    [Required(ErrorMessage = "Enter the name of the person who will administer the account.")]
    [StringLength(200, ErrorMessage = "Keep the name under 200 characters.")]
    [PublisherPortal.Security.PlainText("The administrator's name")]
    public string AdminName { get; set; } = "";

    [Required(ErrorMessage = "Enter the administrator's e-mail address.")]
    [EmailAddress(ErrorMessage = "That does not look like an e-mail address.")]
    [StringLength(320)]
    public string AdminEmail { get; set; } = "";

    /// <summary>Where the product keeps the customer's data; it cannot move later, so it is asked up front.</summary>
    [Required(ErrorMessage = "Choose where your data is kept.")]
    public string DataRegion { get; set; } = DataRegions.Default;

    /// <summary>Answers to the offer's custom fields (Offers/CustomField), by field name.</summary>
    public Dictionary<string, string?> Answers { get; set; } = new(StringComparer.Ordinal);

    public AccountSetup Copy()
    {
        var copy = (AccountSetup)MemberwiseClone();
        copy.Answers = new Dictionary<string, string?>(Answers, StringComparer.Ordinal);
        return copy;
    }

    /// <summary>Answers beyond the fixed columns, kept as JSON in subscriptions.account_settings.</summary>
    internal string SettingsJson() => JsonSerializer.Serialize(new StoredSettings(
        DataRegion,
        Answers.Where(a => !string.IsNullOrWhiteSpace(a.Value)).ToDictionary(a => a.Key, a => a.Value!.Trim(), StringComparer.Ordinal)));

    internal static string? RegionFrom(string? settingsJson) => Read(settingsJson)?.DataRegion;

    /// <summary>The custom-field answers recorded with the account; empty when there are none or they cannot be read.</summary>
    public static IReadOnlyDictionary<string, string?> AnswersFrom(string? settingsJson) =>
        Read(settingsJson)?.Fields is { } fields
            ? fields.ToDictionary(f => f.Key, f => (string?)f.Value, StringComparer.Ordinal)
            : new Dictionary<string, string?>(StringComparer.Ordinal);

    private static StoredSettings? Read(string? settingsJson)
    {
        if (string.IsNullOrWhiteSpace(settingsJson))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<StoredSettings>(settingsJson);
        }
        catch (JsonException)
        {
            // Settings written by a later version may not parse here; the customer simply answers again.
            return null;
        }
    }

    private sealed record StoredSettings(string? DataRegion, Dictionary<string, string>? Fields = null);
}

public static class DataRegions
{
    public const string Default = "westeurope";

    public static IReadOnlyList<(string Id, string Name)> All { get; } =
    [
        ("westeurope", "Europe (Netherlands)"),
        ("northeurope", "Europe (Ireland)"),
        ("eastus", "United States (Virginia)"),
        ("westus", "United States (California)"),
        ("australiaeast", "Australia (New South Wales)"),
    ];

    public static string NameOf(string? id) => All.FirstOrDefault(r => r.Id == id).Name ?? id ?? "not chosen";
}

public static class AccountSetupDefaults
{
    /// <summary>
    /// First answers for the form, from what the marketplace told us about the beneficiary, so most customers only
    /// check and continue.
    /// </summary>
    public static AccountSetup PrefillFrom(Data.SubscriptionRecord subscription, Identity.CurrentUser user)
    {
        var email = subscription.BeneficiaryEmail ?? user.Email ?? "";
        var domain = email.Contains('@') ? email[(email.IndexOf('@') + 1)..] : "";
        var organisation = domain.Split('.', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        var isBeneficiary = string.Equals(user.Email, subscription.BeneficiaryEmail, StringComparison.OrdinalIgnoreCase);
        return new AccountSetup
        {
            OrganisationName = organisation.Length > 0 ? char.ToUpperInvariant(organisation[0]) + organisation[1..] : "",
            AdminName = isBeneficiary && user.DisplayName != "unknown" ? user.DisplayName : "",
            AdminEmail = email,
            DataRegion = DataRegions.Default,
        };
    }
}
