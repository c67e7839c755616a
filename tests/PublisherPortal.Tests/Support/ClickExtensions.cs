using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;

namespace PublisherPortal.Tests.Support;

/// <summary>
/// Clicks an element found in the same dispatch as the click. A page whose data is still arriving may render again
/// between a Find and a later Click, and the click then names a handler that no longer exists (seen in CI on
/// PostgreSQL, where reads finish on another thread).
/// </summary>
public static class ClickExtensions
{
    public static Task ClickAsync<TComponent>(this IRenderedComponent<TComponent> cut, string selector, int index = 0)
        where TComponent : IComponent
    {
        try
        {
            cut.WaitForElement(selector);
        }
        catch (Bunit.Extensions.WaitForHelpers.WaitForFailedException)
        {
            throw new Xunit.Sdk.XunitException($"No {selector} appeared to click. The page showed:\n{cut.Markup}");
        }

        // Awaits the handler, so an exception it throws after its first await fails the test here, not 15 s later in a
        // wait for what never came. Not for a click that opens a dialog and waits for its answer: that never returns.
        return cut.InvokeAsync(() => Pick(cut.FindAll(selector), selector, index).ClickAsync(new MouseEventArgs()));
    }

    private static IElement Pick(IReadOnlyList<IElement> found, string selector, int index) =>
        index < found.Count ? found[index] : throw new Xunit.Sdk.XunitException($"No element {index} matches {selector}.");
}
