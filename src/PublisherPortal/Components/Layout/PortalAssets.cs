using Microsoft.Extensions.FileProviders;

namespace PublisherPortal.Components.Layout;

public static class PortalAssets
{
    /// <summary>Serves the repository's wwwroot-assets folder (copied next to the app at build) as /assets.</summary>
    public static IApplicationBuilder UsePortalAssets(this IApplicationBuilder app)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "wwwroot-assets");
        if (!Directory.Exists(folder))
        {
            return app;
        }

        return app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(folder),
            RequestPath = "/assets",
        });
    }
}
