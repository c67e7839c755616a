using System.Diagnostics;

namespace PublisherPortal.Tests.Security;

/// <summary>
/// `dotnet run` fills App_Data in the project folder (the demo database, the emulator's state and keys); `dotnet publish`
/// must not ship any of it. Asked of MSBuild itself: which files the project would publish as content.
/// </summary>
public sealed class PublishContentTests
{
    [Fact]
    public async Task What_dotnet_run_leaves_in_App_Data_is_not_published()
    {
        var project = Path.Combine(RepositoryRoot(), "src", "PublisherPortal");
        var folder = Path.Combine(project, "App_Data");
        var created = !Directory.Exists(folder);
        var probe = Path.Combine(folder, $"publish-probe-{Guid.NewGuid():N}.json");   // .json: Content by default in a web project
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(probe, "{}");
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "msbuild", Path.Combine(project, "PublisherPortal.csproj"), "-getItem:Content", "-nologo" })
            {
                start.ArgumentList.Add(arg);
            }

            using var msbuild = Process.Start(start)!;
            var items = await msbuild.StandardOutput.ReadToEndAsync();
            await msbuild.WaitForExitAsync();

            Assert.True(msbuild.ExitCode == 0, await msbuild.StandardError.ReadToEndAsync() + items);
            Assert.Contains("appsettings.json", items);   // the evaluation did list the published content
            Assert.DoesNotContain(Path.GetFileName(probe), items);
        }
        finally
        {
            File.Delete(probe);
            if (created)
            {
                Directory.Delete(folder);
            }
        }
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "PublisherPortal.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("No PublisherPortal.sln above " + AppContext.BaseDirectory);
    }
}
