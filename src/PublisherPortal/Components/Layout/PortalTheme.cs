using MudBlazor;

namespace PublisherPortal.Components.Layout;

public static class PortalTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#0f6cbd",
            Secondary = "#5c2e91",
            AppbarBackground = "#0f3d68",
            Background = "#f7f8fa",
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "6px" },
    };
}
