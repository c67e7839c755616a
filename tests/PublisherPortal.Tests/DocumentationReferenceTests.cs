using System.Text.RegularExpressions;

namespace PublisherPortal.Tests;

/// <summary>
/// Comments explain a rule by pointing at where it is written down. A pointer a reader cannot follow — a document that
/// is not in the repository, a file or a section that was renamed — is worse than none, so every one is checked here:
/// citations of documents outside the repository are refused, and every docs/ path and #section must exist.
/// </summary>
public sealed partial class DocumentationReferenceTests
{
    private static readonly string Root = FindRepositoryRoot();

    // Spelled in pieces so that this file does not cite them itself.
    private static readonly string[] Forbidden = ["contract " + "§", "design" + ".md", "../" + "shared"];

    private static readonly string[] SourceExtensions = [".cs", ".razor", ".sql", ".js", ".css", ".json", ".csproj", ".props", ".sh", ".md"];

    [Fact]
    public void Sources_cite_no_document_outside_the_repository()
    {
        var offences = SourceFiles().Concat(Documentation())
            .SelectMany(file => Lines(file).Where(l => Forbidden.Any(f => l.Text.Contains(f, StringComparison.OrdinalIgnoreCase))
                                                       || SectionSign().IsMatch(l.Text))
                .Select(l => $"{Relative(file)}:{l.Number}: {l.Text.Trim()}"))
            .ToList();

        Assert.True(offences.Count == 0, "Cite docs/ or Microsoft's public documentation instead:\n" + string.Join("\n", offences));
    }

    [Fact]
    public void Every_docs_reference_in_sources_names_a_file_and_section_that_exist()
    {
        var broken = SourceFiles()
            .SelectMany(file => Lines(file).SelectMany(l => DocsReference().Matches(l.Text)
                .Select(m => (Where: $"{Relative(file)}:{l.Number}", Reference: m.Value))))
            .Select(r => (r.Where, r.Reference, Problem: Problem(Root, r.Reference)))
            .Where(r => r.Problem is not null)
            .Select(r => $"{r.Where}: {r.Reference} — {r.Problem}")
            .ToList();

        Assert.True(broken.Count == 0, "Broken references to docs/:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void Every_relative_link_in_the_documentation_leads_somewhere()
    {
        var broken = Documentation()
            .SelectMany(file => Lines(file).SelectMany(l => MarkdownLink().Matches(l.Text)
                .Select(m => m.Groups["target"].Value)
                .Where(t => !t.Contains("://", StringComparison.Ordinal) && !t.StartsWith("mailto:", StringComparison.Ordinal))
                .Select(t => (Where: $"{Relative(file)}:{l.Number}", Target: t, Problem: Problem(Path.GetDirectoryName(file)!, t, file)))))
            .Where(r => r.Problem is not null)
            .Select(r => $"{r.Where}: ({r.Target}) — {r.Problem}")
            .ToList();

        Assert.True(broken.Count == 0, "Broken links in the documentation:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void The_checks_see_a_missing_file_and_a_missing_section()
    {
        // The two ways a reference breaks, against the real docs/ folder: the checks above rely on this judgement.
        Assert.Null(Problem(Root, "docs/marketplace.md#webhook-authentication"));
        Assert.NotNull(Problem(Root, "docs/marketplace.md#" + "no-such-section"));
        Assert.NotNull(Problem(Root, "docs/" + "no-such-file.md"));
    }

    /// <summary>Why <paramref name="reference"/> (a path, maybe with #section, relative to <paramref
    /// name="baseFolder"/>) leads nowhere; null when it leads somewhere.</summary>
    private static string? Problem(string baseFolder, string reference, string? currentFile = null)
    {
        var hash = reference.IndexOf('#', StringComparison.Ordinal);
        var path = hash < 0 ? reference : reference[..hash];
        var anchor = hash < 0 ? null : reference[(hash + 1)..];
        var target = path.Length == 0 ? currentFile! : Path.GetFullPath(Path.Combine(baseFolder, path));
        if (!File.Exists(target) && !Directory.Exists(target))
        {
            return "no such file";
        }

        if (anchor is null)
        {
            return null;
        }

        return File.Exists(target) && Anchors(target).Contains(anchor) ? null : $"no section #{anchor} in {Relative(target)}";
    }

    /// <summary>The anchors a Markdown file offers: its headings as GitHub names them, and explicit &lt;a id&gt; tags.</summary>
    private static HashSet<string> Anchors(string markdownFile)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var fenced = false;
        foreach (var (_, text) in Lines(markdownFile))
        {
            if (text.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }

            if (fenced)
            {
                continue;
            }

            var heading = Heading().Match(text);
            if (heading.Success)
            {
                var slug = Slug(heading.Groups["title"].Value);
                var unique = slug;
                for (var n = 1; !anchors.Add(unique); n++)
                {
                    unique = $"{slug}-{n}";
                }
            }

            foreach (Match id in ExplicitAnchor().Matches(text))
            {
                anchors.Add(id.Groups["id"].Value);
            }
        }

        return anchors;
    }

    /// <summary>GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string Slug(string title)
    {
        var text = MarkdownDecoration().Replace(title.Trim(), "").ToLowerInvariant();
        return NotSlugCharacter().Replace(text, "").Replace(' ', '-');
    }

    private static IEnumerable<string> SourceFiles() =>
        new[] { "src", "tests", "bench" }
            .Select(folder => Path.Combine(Root, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .Where(f => SourceExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Where(f => !Relative(f).Split('/').Any(part => part is "bin" or "obj" or "node_modules" or "App_Data"));

    /// <summary>docs/ and the READMEs: what a newcomer reads first.</summary>
    private static IEnumerable<string> Documentation() =>
        Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories)
            .Concat(new[] { Path.Combine(Root, "README.md"), Path.Combine(Root, "bench", "README.md") }.Where(File.Exists));

    private static IEnumerable<(int Number, string Text)> Lines(string file) =>
        File.ReadLines(file).Select((text, i) => (i + 1, text));

    private static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "PublisherPortal.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("PublisherPortal.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"§\s*\d")]
    private static partial Regex SectionSign();

    [GeneratedRegex(@"(?<![\w/.\-])docs/[A-Za-z0-9_./\-]*[A-Za-z0-9_/](?:#[A-Za-z0-9_\-]+)?")]
    private static partial Regex DocsReference();

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"^#{1,6}\s+(?<title>.+?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"<a\s+(?:id|name)=""(?<id>[^""]+)""")]
    private static partial Regex ExplicitAnchor();

    [GeneratedRegex(@"[`*_]|<[^>]+>")]
    private static partial Regex MarkdownDecoration();

    [GeneratedRegex(@"[^\p{L}\p{N} \-]")]
    private static partial Regex NotSlugCharacter();
}
