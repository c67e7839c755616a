using PublisherPortal.Offers;

namespace PublisherPortal.Tests.Offers;

/// <summary>The one rule the wizard's form and the server both apply to an answer.</summary>
public sealed class CustomFieldTests
{
    [Theory]
    [InlineData(CustomFieldType.Text, "", "Label is required.")]
    [InlineData(CustomFieldType.Email, "not-an-address", "Label must be an e-mail address.")]
    [InlineData(CustomFieldType.Email, "ops@contoso.example", null)]
    [InlineData(CustomFieldType.Number, "abc", "Label must be a number.")]
    [InlineData(CustomFieldType.Number, "6", "Label must be at least 7.")]
    [InlineData(CustomFieldType.Number, "366", "Label must be at most 365.")]
    [InlineData(CustomFieldType.Number, "30", null)]
    [InlineData(CustomFieldType.Choice, "Gold", "Choose one of the offered answers for Label.")]
    [InlineData(CustomFieldType.Choice, "Archive", null)]
    public void A_required_answer_is_judged_by_its_type(CustomFieldType type, string answer, string? problem)
    {
        var field = new CustomField { Name = "f", Label = "Label", Type = type, Required = true, Min = 7, Max = 365, Options = ["Standard", "Archive"] };

        Assert.Equal(problem, field.Validate(answer));
    }

    [Theory]
    [InlineData("AB-12", null)]
    [InlineData("ab-12", "Code is not in the expected format.")]
    [InlineData("A", "Code needs at least 2 characters.")]
    [InlineData("ABCDEFG", "Code allows at most 6 characters.")]
    public void A_text_answer_keeps_its_pattern_and_lengths(string answer, string? problem)
    {
        var field = new CustomField { Name = "code", Label = "Code", Pattern = "[A-Z]+-[0-9]+", MinLength = 2, MaxLength = 6 };

        Assert.Equal(problem, field.Validate(answer));
    }

    [Fact]
    public void An_optional_field_left_empty_is_fine()
    {
        Assert.Null(new CustomField { Name = "f", Label = "Label", Type = CustomFieldType.Email }.Validate("  "));
    }
}
