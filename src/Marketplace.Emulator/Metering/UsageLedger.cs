using System.Text.Json;
using Marketplace.Models;
using Microsoft.Extensions.Logging;

namespace Marketplace.Emulator;

/// <summary>One usage event as the emulator received it, with the status it answered — to prove "billed once" in tests.</summary>
public sealed record UsageSubmission(UsageEvent Event, UsageEventStatus Answer, DateTimeOffset ReceivedAt, bool InBatch);

/// <summary>
/// The metering side of the marketplace (docs/marketplace.md#metering): the accepted usage, one event per resource, dimension and hour,
/// and every event received. Subscriptions and plans come from the <see cref="SubscriptionBook"/> and the catalogue, so a
/// dimension exists exactly when the subscription's plan lists it in <c>meteringDimensions</c>.
/// </summary>
internal sealed partial class UsageLedger
{
    private const string SnapshotFileName = "emulator-usage.json";

    /// <summary>Usage may be reported for the last 24 hours only (docs/marketplace.md#metering).</summary>
    public static readonly TimeSpan ReportingWindow = TimeSpan.FromHours(24);

    /// <summary>A product's clock runs a little ahead now and then; further in the future is refused.</summary>
    private static readonly TimeSpan AllowedClockSkew = TimeSpan.FromMinutes(5);

    private readonly Lock _gate = new();
    private readonly Dictionary<(Guid Resource, string Dimension, DateTimeOffset Hour), UsageEventResult> _accepted = [];
    private readonly List<UsageSubmission> _submissions = [];
    private readonly SubscriptionBook _book;
    private readonly EmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly string? _snapshotPath;

    public UsageLedger(SubscriptionBook book, EmulatorOptions options, TimeProvider time, ILogger log)
    {
        _book = book;
        _options = options;
        _time = time;
        _log = log;
        _snapshotPath = options.DataDirectory is null ? null : Path.Combine(options.DataDirectory, SnapshotFileName);
        LoadSnapshot();
    }

    public static DateTimeOffset HourOf(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>Decides about one event and remembers it; the result carries the status and, for a duplicate, the accepted event.</summary>
    public UsageEventResult Record(UsageEvent usage, bool inBatch)
    {
        lock (_gate)
        {
            var result = Decide(usage);
            _submissions.Add(new UsageSubmission(usage, result.Status, _time.GetUtcNow(), inBatch));
            if (result.Status == UsageEventStatus.Accepted)
            {
                _accepted[(usage.ResourceId, usage.Dimension, HourOf(usage.EffectiveStartTime))] = result;
                LogAccepted(_log, usage.ResourceId, usage.Dimension, HourOf(usage.EffectiveStartTime), usage.Quantity);
            }

            Persist();
            return result;
        }
    }

    private UsageEventResult Decide(UsageEvent usage)
    {
        var now = _time.GetUtcNow();
        if (usage.Quantity <= 0)
        {
            return Refused(usage, UsageEventStatus.InvalidQuantity, "quantity", "Quantity must be greater than 0.");
        }

        if (string.IsNullOrWhiteSpace(usage.Dimension) || string.IsNullOrWhiteSpace(usage.PlanId) || usage.ResourceId == Guid.Empty)
        {
            return Refused(usage, UsageEventStatus.BadArgument, "usageEventRequest", "resourceId, dimension and planId are required.");
        }

        var subscription = _book.Find(usage.ResourceId);
        if (subscription is null)
        {
            return Refused(usage, UsageEventStatus.ResourceNotFound, "resourceId", $"Resource {usage.ResourceId} was not found.");
        }

        if (subscription.PublisherId != _options.PublisherId)
        {
            return Refused(usage, UsageEventStatus.ResourceNotAuthorized, "resourceId", $"Resource {usage.ResourceId} belongs to another publisher.");
        }

        // The duplicate check comes before the time window: an event accepted 23 hours ago and sent again an hour later
        // (a publisher recovering from a crash) must still be recognised as billed, never reported as "Expired".
        if (_accepted.TryGetValue((usage.ResourceId, usage.Dimension, HourOf(usage.EffectiveStartTime)), out var accepted))
        {
            return accepted with
            {
                Status = UsageEventStatus.Duplicate,
                Error = new UsageEventError
                {
                    Code = "Conflict",
                    Message = "This usage event already exist.",
                    AdditionalInfo = new UsageEventAdditionalInfo { AcceptedMessage = accepted with { Status = UsageEventStatus.Duplicate } },
                },
            };
        }

        if (usage.EffectiveStartTime > now + AllowedClockSkew)
        {
            return Refused(usage, UsageEventStatus.BadArgument, "effectiveStartTime", "effectiveStartTime lies in the future.");
        }

        if (usage.EffectiveStartTime < now - ReportingWindow)
        {
            return Refused(usage, UsageEventStatus.Expired, "effectiveStartTime", "effectiveStartTime is more than 24 hours in the past.");
        }

        if (subscription.SaasSubscriptionStatus != SubscriptionStatus.Subscribed)
        {
            return Refused(usage, UsageEventStatus.ResourceNotActive, "resourceId",
                $"Resource {usage.ResourceId} is {subscription.SaasSubscriptionStatus}, not Subscribed.");
        }

        if (!string.Equals(subscription.PlanId, usage.PlanId, StringComparison.Ordinal))
        {
            return Refused(usage, UsageEventStatus.BadArgument, "planId",
                $"planId '{usage.PlanId}' is not the subscription's plan ('{subscription.PlanId}').");
        }

        var plan = _book.FindPlan(subscription.OfferId, subscription.PlanId);
        var dimensions = plan?.PlanComponents?.MeteringDimensions ?? [];
        if (!dimensions.Any(d => string.Equals(d.Id, usage.Dimension, StringComparison.Ordinal)))
        {
            return Refused(usage, UsageEventStatus.InvalidDimension, "dimension",
                $"Dimension '{usage.Dimension}' is not a metering dimension of plan '{subscription.PlanId}'.");
        }

        return new UsageEventResult
        {
            UsageEventId = Guid.NewGuid(),
            Status = UsageEventStatus.Accepted,
            MessageTime = now,
            ResourceId = usage.ResourceId,
            Quantity = usage.Quantity,
            Dimension = usage.Dimension,
            EffectiveStartTime = usage.EffectiveStartTime,
            PlanId = usage.PlanId,
        };
    }

    private static UsageEventResult Refused(UsageEvent usage, UsageEventStatus status, string target, string message) => new()
    {
        Status = status,
        ResourceId = usage.ResourceId,
        Quantity = usage.Quantity,
        Dimension = usage.Dimension,
        EffectiveStartTime = usage.EffectiveStartTime,
        PlanId = usage.PlanId,
        Error = new UsageEventError
        {
            Code = "BadArgument",
            Message = message,
            Target = target,
            Details = [new UsageEventErrorDetail { Code = status.ToString(), Message = message, Target = target }],
        },
    };

    /// <summary>The retrieval call: accepted usage whose hour lies in [start, end], narrowed by the optional filters.</summary>
    public IReadOnlyList<ReportedUsage> Reported(
        DateTimeOffset start, DateTimeOffset end, string? offerId, string? planId, string? dimension, Guid? resourceId)
    {
        lock (_gate)
        {
            return
            [
                .. _accepted
                    .Where(p => p.Key.Hour >= HourOf(start) && p.Key.Hour <= end)
                    .Where(p => resourceId is null || p.Key.Resource == resourceId)
                    .Where(p => dimension is null || p.Key.Dimension == dimension)
                    .Where(p => planId is null || p.Value.PlanId == planId)
                    .Select(p => (p.Key, p.Value, OfferId: _book.Find(p.Key.Resource)?.OfferId))
                    .Where(p => offerId is null || p.OfferId == offerId)
                    .OrderBy(p => p.Key.Hour).ThenBy(p => p.Key.Resource).ThenBy(p => p.Key.Dimension, StringComparer.Ordinal)
                    .Select(p => new ReportedUsage
                    {
                        UsageEventId = p.Value.UsageEventId,
                        UsageDate = p.Key.Hour,
                        UsageResourceId = p.Key.Resource,
                        OfferId = p.OfferId,
                        PlanId = p.Value.PlanId,
                        Dimension = p.Key.Dimension,
                        SubmittedQuantity = p.Value.Quantity,
                        ProcessedQuantity = p.Value.Quantity,
                        SubmittedCount = 1,
                        ReconStatus = "Accepted",
                    }),
            ];
        }
    }

    public IReadOnlyList<UsageEventResult> AcceptedFor(Guid resourceId)
    {
        lock (_gate)
        {
            return [.. _accepted.Where(p => p.Key.Resource == resourceId).OrderBy(p => p.Key.Hour).Select(p => p.Value)];
        }
    }

    public IReadOnlyList<UsageSubmission> SubmissionsFor(Guid resourceId)
    {
        lock (_gate)
        {
            return [.. _submissions.Where(s => s.Event.ResourceId == resourceId)];
        }
    }

    private sealed record Snapshot
    {
        public List<UsageEventResult> Accepted { get; init; } = [];
        public List<UsageSubmission> Submissions { get; init; } = [];
    }

    private void Persist()
    {
        if (_snapshotPath is null)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_snapshotPath)!);
            var temporary = _snapshotPath + ".tmp";
            var snapshot = new Snapshot { Accepted = [.. _accepted.Values], Submissions = _submissions };
            File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(snapshot, MarketplaceJson.Options));
            File.Move(temporary, _snapshotPath, overwrite: true);
        }
        catch (IOException ex)
        {
            LogSnapshotFailed(_log, _snapshotPath, ex);
        }
    }

    private void LoadSnapshot()
    {
        if (_snapshotPath is null || !File.Exists(_snapshotPath))
        {
            return;
        }

        var snapshot = JsonSerializer.Deserialize<Snapshot>(File.ReadAllBytes(_snapshotPath), MarketplaceJson.Options) ?? new Snapshot();
        foreach (var accepted in snapshot.Accepted)
        {
            _accepted[(accepted.ResourceId, accepted.Dimension, HourOf(accepted.EffectiveStartTime))] = accepted;
        }

        _submissions.AddRange(snapshot.Submissions);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Usage accepted: {ResourceId} {Dimension} {Hour:u} quantity {Quantity}")]
    private static partial void LogAccepted(ILogger log, Guid resourceId, string dimension, DateTimeOffset hour, decimal quantity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write the usage snapshot {Path}")]
    private static partial void LogSnapshotFailed(ILogger log, string path, Exception exception);
}
