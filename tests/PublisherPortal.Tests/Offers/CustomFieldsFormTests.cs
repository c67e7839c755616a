using Bunit;
using MudBlazor;
using PublisherPortal.Landing;
using PublisherPortal.Offers;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Offers;

/// <summary>The wizard's account step with an offer's custom fields: each rule stops the customer with its sentence.</summary>
public sealed class CustomFieldsFormTests : PortalTestContext, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's services dispose only asynchronously, so the context is disposed here, before xunit's synchronous Dispose.
    async Task IAsyncLifetime.DisposeAsync() => await base.DisposeAsync();

    private static readonly IReadOnlyList<CustomField> Fields =
    [
        new() { Name = "company-code", Label = "Company code", Required = true, Pattern = "[A-Z]{3}", MaxLength = 3 },
        new() { Name = "retention-days", Label = "Retention (days)", Type = CustomFieldType.Number, Required = true, Min = 7, Max = 365 },
        new() { Name = "security-contact", Label = "Security contact", Type = CustomFieldType.Email },
        new() { Name = "storage-tier", Label = "Storage tier", Type = CustomFieldType.Choice, Required = true, Options = ["Standard", "Archive"] },
    ];

    private AccountSetup? _saved;

    [Fact]
    public async Task Required_fields_left_empty_keep_the_customer_on_the_step_with_each_field_named()
    {
        var form = RenderForm();

        await form.Find("[data-testid=setup-continue]").ClickAsync(new());

        form.WaitForAssertion(() =>
        {
            Assert.Contains("Company code is required.", form.Markup, StringComparison.Ordinal);
            Assert.Contains("Retention (days) is required.", form.Markup, StringComparison.Ordinal);
            Assert.Contains("Storage tier is required.", form.Markup, StringComparison.Ordinal);
        });
        Assert.Null(_saved);
    }

    [Fact]
    public async Task A_number_outside_its_bounds_and_a_malformed_e_mail_are_refused()
    {
        var form = RenderForm();

        await TypeAsync(form, "company-code", "CTO");
        await TypeAsync(form, "retention-days", "400");
        await TypeAsync(form, "security-contact", "security at contoso");
        await form.Find("[data-testid=setup-continue]").ClickAsync(new());

        form.WaitForAssertion(() =>
        {
            Assert.Contains("Retention (days) must be at most 365.", form.Markup, StringComparison.Ordinal);
            Assert.Contains("Security contact must be an e-mail address.", form.Markup, StringComparison.Ordinal);
        });
        Assert.DoesNotContain("Company code", ErrorTexts(form), StringComparison.Ordinal);
        Assert.Null(_saved);
    }

    [Fact]
    public async Task Valid_answers_including_a_chosen_option_are_handed_on_to_be_saved()
    {
        var form = RenderForm();

        await TypeAsync(form, "company-code", "CTO");
        await TypeAsync(form, "retention-days", "30");
        await TypeAsync(form, "security-contact", "security@contoso.example");
        // Open the select as a click would, then pick the option the customer sees in the popover.
        var tier = form.FindComponents<MudSelect<string>>().Single(c => c.Instance.Label == "Storage tier");
        await form.InvokeAsync(() => tier.Instance.OpenMenu());
        _popovers.WaitForAssertion(() => Assert.Contains("Archive", _popovers.Markup, StringComparison.Ordinal));
        await _popovers.FindAll(".mud-list-item").Single(i => i.TextContent.Contains("Archive", StringComparison.Ordinal)).ClickAsync(new());
        await form.Find("[data-testid=setup-continue]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.NotNull(_saved));
        Assert.Equal(("CTO", "30", "security@contoso.example", "Archive"),
            (_saved!.Answers["company-code"], _saved.Answers["retention-days"], _saved.Answers["security-contact"], _saved.Answers["storage-tier"]));
    }

    [Fact]
    public async Task A_text_answer_not_in_the_pattern_is_refused()
    {
        var form = RenderForm();

        await TypeAsync(form, "company-code", "ct0");
        await form.Find("[data-testid=setup-continue]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.Contains("Company code is not in the expected format.", form.Markup, StringComparison.Ordinal));
        Assert.Null(_saved);
    }

    private IRenderedComponent<MudPopoverProvider> _popovers = default!;

    private IRenderedComponent<AccountSetupForm> RenderForm()
    {
        _popovers = Render<MudPopoverProvider>();
        return Render<AccountSetupForm>(p => p
            .Add(f => f.Setup, new AccountSetup { OrganisationName = "Contoso", AdminName = "Alice", AdminEmail = "alice@contoso.example" })
            .Add(f => f.Fields, Fields)
            .Add(f => f.OnSave, setup => _saved = setup));
    }

    private static async Task TypeAsync(IRenderedComponent<AccountSetupForm> form, string field, string value) =>
        await form.Find($"input[data-testid=field-{field}]").InputAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = value });

    private static string ErrorTexts(IRenderedComponent<AccountSetupForm> form) =>
        string.Join("|", form.FindAll(".mud-input-helper-text.mud-input-error, .mud-input-error .mud-input-helper-text").Select(e => e.TextContent));
}
