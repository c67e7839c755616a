using System.ComponentModel.DataAnnotations;

namespace PublisherPortal.Security;

/// <summary>
/// What customer- and operator-entered text may not contain: control characters (a NUL or an escape sequence ends up
/// in mails, CSV exports and logs) and the Unicode bidirectional embedding, override and isolate characters, which make
/// text display in another order than it is stored ("Trojan Source", CVE-2021-42574) — an organisation name could read
/// differently to the operator who approves it than to the code that uses it.
/// </summary>
public static class PlainText
{
    /// <summary>The sentence shown under a field; <paramref name="label"/> names it.</summary>
    public static string Refusal(string label) =>
        $"{label} contains an invisible control or text-direction character; type it again without pasting, or remove that character.";

    /// <summary>True when <paramref name="text"/> has none of the refused characters. Line breaks and tabs are allowed.</summary>
    public static bool IsPlain(string? text) => text is null || !text.Any(IsRefused);

    private static bool IsRefused(char c) =>
        (char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
        || c is >= '\u202A' and <= '\u202E'   // LRE, RLE, PDF, LRO, RLO
        || c is >= '\u2066' and <= '\u2069';  // LRI, RLI, FSI, PDI
}

/// <summary>Data annotation for <see cref="PlainText"/>: the form shows the message, the service refuses the same.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PlainTextAttribute(string label) : ValidationAttribute
{
    public override bool IsValid(object? value) => value is not string text || PlainText.IsPlain(text);

    public override string FormatErrorMessage(string name) => PlainText.Refusal(label);
}
