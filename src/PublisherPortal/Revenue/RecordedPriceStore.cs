using System.Data.Common;
using System.Text.RegularExpressions;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Revenue;

/// <summary>A billing currency or negotiated price an Admin records for one subscription.</summary>
public sealed record RecordPriceRequest(Guid SubscriptionId, string Currency, string? TermUnit, decimal? Price, bool IsPerSeat, DateTimeOffset ValidFrom, string? Note);

/// <summary>What came of recording a price: recorded, or refused with a sentence the Admin can act on.</summary>
public sealed record RecordPriceResult(bool Recorded, string? Problem)
{
    public static RecordPriceResult Refused(string problem) => new(false, problem);
}

/// <summary>
/// Prices the marketplace does not expose (private offers) and billing currencies, recorded by an Admin (subscription_prices).
/// Rows are never edited: a correction is a newer row, and each one is in the audit log with who recorded it.
/// </summary>
public sealed partial class RecordedPriceStore(PortalDatabase database, AuditLog audit, TimeProvider time)
{
    public async Task<RecordPriceResult> RecordAsync(RecordPriceRequest request, string actor, CancellationToken ct = default)
    {
        var currency = request.Currency?.Trim().ToUpperInvariant() ?? "";
        if (!CurrencyCode().IsMatch(currency))
        {
            return RecordPriceResult.Refused("The currency must be a three-letter ISO 4217 code, such as USD or EUR.");
        }

        if (request.TermUnit is not null && PriceBook.TermMonths(request.TermUnit) is null)
        {
            return RecordPriceResult.Refused("The billing term must be an ISO-8601 duration in months or years, such as P1M or P1Y.");
        }

        if (request.Price is < 0 or > 1_000_000_000m)
        {
            return RecordPriceResult.Refused("The price must be between 0 and 1,000,000,000.");
        }

        if (request.Price is { } p && decimal.Round(p, 6) != p)
        {
            return RecordPriceResult.Refused("The price may have at most six decimals.");
        }

        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM subscriptions WHERE id = @id", new { id = request.SubscriptionId }, tx, cancellationToken: ct));
        if (exists == 0)
        {
            return RecordPriceResult.Refused("There is no subscription with that id.");
        }

        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO subscription_prices (subscription_id, currency, term_unit, price_micros, is_per_seat, valid_from, recorded_at, recorded_by, note)
            VALUES (@subscriptionId, @currency, @termUnit, @priceMicros, @isPerSeat, @validFrom, @now, @actor, @note)
            """,
            new
            {
                subscriptionId = request.SubscriptionId,
                currency,
                termUnit = request.TermUnit,
                priceMicros = request.Price is { } price ? PlanPriceStore.Micros(price) : (long?)null,
                isPerSeat = request.IsPerSeat,
                validFrom = request.ValidFrom.ToUniversalTime(),
                now = time.GetUtcNow(),
                actor,
                note = request.Note,
            }, tx, cancellationToken: ct));
        var what = request.Price is { } q
            ? $"{currency} {q:0.00######} per {request.TermUnit ?? "term"}{(request.IsPerSeat ? " per seat" : "")}"
            : $"billed in {currency} at list price";
        await audit.RecordAsync(actor, "RevenuePriceRecorded", request.SubscriptionId,
            $"{what}, from {request.ValidFrom.ToUniversalTime():yyyy-MM-dd HH:mm}Z{(string.IsNullOrWhiteSpace(request.Note) ? "" : "; " + request.Note)}",
            "Recorded", connection, tx, ct);
        await tx.CommitAsync(ct);
        return new RecordPriceResult(true, null);
    }

    public static async Task<IReadOnlyList<RecordedPrice>> LoadAsync(DbConnection connection, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT id, subscription_id, currency, term_unit, price_micros, is_per_seat, valid_from FROM subscription_prices", cancellationToken: ct));
        return rows.Select(r => new RecordedPrice(r.Id, r.SubscriptionId, r.Currency, r.TermUnit,
            r.PriceMicros is { } m ? PlanPriceStore.Money(m) : null, r.IsPerSeat, r.ValidFrom)).ToList();
    }

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();

    private sealed record Row
    {
        public long Id { get; init; }
        public Guid SubscriptionId { get; init; }
        public string Currency { get; init; } = "";
        public string? TermUnit { get; init; }
        public long? PriceMicros { get; init; }
        public bool IsPerSeat { get; init; }
        public DateTimeOffset ValidFrom { get; init; }
    }
}
