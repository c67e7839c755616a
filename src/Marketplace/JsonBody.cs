using System.Net.Http.Headers;
using System.Text.Json;
using Marketplace.Models;

namespace Marketplace;

/// <summary>A request body serialized once up front, so that a retried attempt sends the very same bytes.</summary>
internal sealed class JsonBody
{
    private readonly byte[]? _utf8;

    private JsonBody(byte[]? utf8) => _utf8 = utf8;

    /// <summary>No content at all (GET, DELETE).</summary>
    public static JsonBody None { get; } = new(null);

    /// <summary>A POST without a body still says it speaks JSON (docs/marketplace.md#calling-the-api lists content-type on every call).</summary>
    public static JsonBody Empty { get; } = new([]);

    public static JsonBody Of<T>(T value) => new(JsonSerializer.SerializeToUtf8Bytes(value, MarketplaceJson.Options));

    public HttpContent? ToContent()
    {
        if (_utf8 is null)
        {
            return null;
        }

        var content = new ByteArrayContent(_utf8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }
}
