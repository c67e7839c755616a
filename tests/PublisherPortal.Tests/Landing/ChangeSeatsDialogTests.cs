using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using PublisherPortal.Landing;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Landing;

/// <summary>The customer's seat dialog: what is typed is what is sent, or refused in words; never clamped.</summary>
public sealed class ChangeSeatsDialogTests : PortalTestContext, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's services dispose only asynchronously, so the context is disposed here, before xunit's synchronous Dispose.
    async Task IAsyncLifetime.DisposeAsync() => await base.DisposeAsync();

    [Fact]
    public async Task Typing_60_on_a_1_to_50_plan_is_refused_inline_and_the_button_stays_off_even_after_leaving_the_field()
    {
        var (provider, result) = await OpenAsync(current: 10, min: 1, max: 50);
        var input = provider.Find("[data-testid=change-seats-dialog] input");

        input.Input("60");
        input.Change("60");
        input.Blur();

        provider.WaitForAssertion(() => Assert.Contains("60 is more than the 50 seats your plan allows.", provider.Markup, StringComparison.Ordinal));
        Assert.Equal("60", provider.Find("[data-testid=change-seats-dialog] input").GetAttribute("value"));
        Assert.True(provider.Find("[data-testid=confirm]").HasAttribute("disabled"));
        Assert.False(result.IsCompleted);
    }

    [Fact]
    public async Task The_button_follows_the_keystrokes_so_the_first_click_after_typing_sends_the_typed_count()
    {
        var (provider, result) = await OpenAsync(current: 10, min: 1, max: 50);

        provider.Find("[data-testid=change-seats-dialog] input").Input("12");
        await provider.InvokeAsync(() => provider.Find("[data-testid=confirm]").Click());

        var answer = await result.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((false, (object)12), (answer!.Canceled, answer.Data!));
    }

    [Fact]
    public async Task Below_the_offers_own_minimum_the_refusal_names_the_offer()
    {
        var (provider, _) = await OpenAsync(current: 12, min: 10, max: 50, offerMinimum: 10);
        Assert.Contains("This offer needs at least 10.", provider.Markup, StringComparison.Ordinal);

        provider.Find("[data-testid=change-seats-dialog] input").Input("8");

        provider.WaitForAssertion(() => Assert.Contains("8 is fewer than the 10 seats this offer needs.", provider.Markup, StringComparison.Ordinal));
        Assert.True(provider.Find("[data-testid=confirm]").HasAttribute("disabled"));
    }

    private async Task<(IRenderedComponent<MudDialogProvider> Provider, Task<DialogResult?> Result)> OpenAsync(int current, int min, int? max, int? offerMinimum = null)
    {
        Render<MudPopoverProvider>();
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        IDialogReference? dialog = null;
        await provider.InvokeAsync(async () => dialog = await dialogs.ShowAsync<ChangeSeatsDialog>("Change seats", new DialogParameters<ChangeSeatsDialog>
        {
            { d => d.CurrentSeats, current },
            { d => d.MinSeats, min },
            { d => d.MaxSeats, max },
            { d => d.OfferMinimum, offerMinimum },
        }));
        provider.WaitForElement("[data-testid=change-seats-dialog] input");
        return (provider, dialog!.Result);
    }
}
