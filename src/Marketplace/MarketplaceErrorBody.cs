using System.Text.Json;

namespace Marketplace;

/// <summary>
/// Reads an error body in any of the shapes the marketplace is known to send (docs/marketplace.md#error-bodies): the OpenAPI
/// <c>{"error":{"code","message"}}</c>, the flat <c>{"code","message","target","details"}</c>, the api-version
/// <c>{"Error":{"Code","Message"}}</c>, or nothing at all. Property names are matched without regard to case because
/// the shapes differ exactly there. Anything else is kept raw for support.
/// </summary>
internal sealed record MarketplaceErrorBody(string? Code, string? Message, string? RawBody)
{
    public static MarketplaceErrorBody Parse(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return new MarketplaceErrorBody(null, null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                var error = Property(root, "error") is { ValueKind: JsonValueKind.Object } nested ? nested : root;
                var code = Text(Property(error, "code"));
                var message = Text(Property(error, "message")) ?? FirstDetailMessage(error);
                if (code is not null || message is not null)
                {
                    return new MarketplaceErrorBody(code, message, null);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (an HTML error page from a proxy, plain text): fall through and keep it raw.
        }

        return new MarketplaceErrorBody(null, null, body);
    }

    private static JsonElement? Property(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }

    private static string? Text(JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.String } e when !string.IsNullOrWhiteSpace(e.GetString()) => e.GetString(),
        { ValueKind: JsonValueKind.Number } e => e.GetRawText(),
        _ => null,
    };

    private static string? FirstDetailMessage(JsonElement error) =>
        Property(error, "details") is { ValueKind: JsonValueKind.Array } details
            ? details.EnumerateArray()
                .Where(d => d.ValueKind == JsonValueKind.Object)
                .Select(d => Text(Property(d, "message")))
                .FirstOrDefault(m => m is not null)
            : null;
}
