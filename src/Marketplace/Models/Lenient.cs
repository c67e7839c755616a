using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Marketplace.Models;

/// <summary>
/// Reads enum values padded with spaces (" Subscribed ") and maps anything unknown to the enum's zero value,
/// because the marketplace's samples show both (docs/marketplace.md#subscription-object). Writes the exact name.
/// </summary>
public sealed class LenientEnumConverter<TEnum> : JsonConverter<TEnum> where TEnum : struct, Enum
{
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String
            && Enum.TryParse<TEnum>(reader.GetString()?.Trim(), ignoreCase: true, out var value)
            && Enum.IsDefined(value))
        {
            return value;
        }

        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            reader.Skip();
        }

        return default;
    }

    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

/// <summary>Seats arrive as a number, a string ("20"), an empty string or null (docs/marketplace.md#subscription-object): accept them all.</summary>
public sealed class LenientNullableIntConverter : JsonConverter<int?>
{
    public override bool HandleNull => true;

    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number when reader.TryGetInt32(out var n) => n,
            JsonTokenType.Number => (int)Math.Clamp(reader.GetDouble(), int.MinValue, int.MaxValue),
            JsonTokenType.String when int.TryParse(reader.GetString()?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => s,
            _ => SkipAndReturnNull(ref reader),
        };

    private static int? SkipAndReturnNull(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }

    public override void Write(Utf8JsonWriter writer, int? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteNumberValue(v);
        else writer.WriteNullValue();
    }
}

/// <summary>The one set of JSON options for everything that crosses the wire.</summary>
public static class MarketplaceJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        // Unknown members are ignored by default; numbers in strings are tolerated where the wire is loose.
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
