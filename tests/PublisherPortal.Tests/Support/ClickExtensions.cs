using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;

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
        cut.WaitForElement(selector);
        return cut.InvokeAsync(() => Pick(cut.FindAll(selector), selector, index).Click());
    }

    private static IElement Pick(IReadOnlyList<IElement> found, string selector, int index) =>
        index < found.Count ? found[index] : throw new Xunit.Sdk.XunitException($"No element {index} matches {selector}.");
}
