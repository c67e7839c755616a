using System.ComponentModel.DataAnnotations;
using PublisherPortal.Landing;
using PublisherPortal.Offers;

namespace PublisherPortal.Tests.Security;

/// <summary>Customer-entered text refuses control and bidirectional-override characters, saying so.</summary>
public sealed class PlainTextTests
{
    public static TheoryData<string> Refused => new()
    {
        "Contoso\u202Egnp.exe",   // RIGHT-TO-LEFT OVERRIDE: displays as "Contosoexe.png"
        "Contoso\u2066Ltd\u2069", // isolates
        "Contoso\u202A",          // embedding
        "Contoso\0Ltd",           // NUL
        "Contoso\u001B[31mLtd",   // terminal escape
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_wizard_custom_field_refuses_the_character_with_a_clear_message(string answer)
    {
        var field = new CustomField { Name = "department", Label = "Department", Type = CustomFieldType.Text };

        Assert.Equal(
            "Department contains an invisible control or text-direction character; type it again without pasting, or remove that character.",
            field.Validate(answer));
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void The_account_names_refuse_the_character(string name)
    {
        var setup = new AccountSetup { OrganisationName = name, AdminName = name, AdminEmail = "alice@contoso.example", DataRegion = DataRegions.Default };

        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(setup, new ValidationContext(setup), results, validateAllProperties: true));

        Assert.Contains(results, r => r.MemberNames.Contains(nameof(AccountSetup.OrganisationName)) && r.ErrorMessage!.StartsWith("The organisation name contains an invisible", StringComparison.Ordinal));
        Assert.Contains(results, r => r.MemberNames.Contains(nameof(AccountSetup.AdminName)) && r.ErrorMessage!.StartsWith("The administrator's name contains an invisible", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Contoso Ltd")]
    [InlineData("שלום עולם")]          // right-to-left text itself is fine
    [InlineData("Zürich GmbH & Co.")]
    [InlineData("line one\nline two")]  // multi-line answers keep their line breaks
    public void Ordinary_text_in_any_script_is_accepted(string text)
    {
        var field = new CustomField { Name = "notes", Label = "Notes", Type = CustomFieldType.Text };
        var setup = new AccountSetup { OrganisationName = text, AdminName = text, AdminEmail = "alice@contoso.example", DataRegion = DataRegions.Default };

        Assert.Null(field.Validate(text));
        Assert.True(Validator.TryValidateObject(setup, new ValidationContext(setup), [], validateAllProperties: true));
    }
}
