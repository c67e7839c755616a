using Dapper;
using Marketplace.Emulator;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;

namespace PublisherPortal.Health;

/// <summary>What the self-test delivery proved, step by step.</summary>
public sealed record SelfTestOutcome(HealthState State, string Summary, IReadOnlyList<string> Steps, DateTimeOffset At);

/// <summary>
/// In demo mode the emulator sends a self-test delivery, signed like a real one, to our own webhook URL: it proves the
/// whole path — token validation, inbox, processor — and, since its action is one the marketplace never sends, it is
/// stored as a test and never applied. Against the real marketplace there is no such call, so the self-test then runs
/// the checks only.
/// </summary>
public sealed class WebhookSelfTest(
    IServiceProvider services,
    PortalDatabase database,
    IOptions<HealthOptions> options,
    TimeProvider time)
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(200);

    public bool IsAvailable => services.GetService<RunningEmulator>() is not null;

    public async Task<SelfTestOutcome> RunAsync(CancellationToken ct = default)
    {
        var started = time.GetUtcNow();
        if (services.GetService<RunningEmulator>() is not { } emulator)
        {
            return new(HealthState.Healthy, "The live marketplace sends no test deliveries: the checks ran now, the webhook path was not exercised.", [], started);
        }

        if (emulator.Options.WebhookUrl is not { } url)
        {
            return new(HealthState.Failing, "The emulator does not know our webhook URL yet (the portal has not finished starting).", [], started);
        }

        var steps = new List<string>();
        var attempt = await emulator.Simulator.SendTestDeliveryAsync(ct);
        if (!attempt.Succeeded)
        {
            steps.Add($"The emulator sent a signed test delivery to {url.AbsolutePath}: answered {attempt.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? attempt.Error}");
            return new(HealthState.Failing, "Our webhook did not accept a correctly signed delivery.", steps, started);
        }

        steps.Add($"The emulator sent a signed test delivery to {url.AbsolutePath}: answered {attempt.StatusCode}");
        var deadline = time.GetUtcNow() + options.Value.SelfTestTimeout;
        StoredDelivery? stored;
        while (true)
        {
            stored = await FindAsync(attempt.OperationId, ct);
            if (stored is { ProcessingState: not "Pending" } || time.GetUtcNow() >= deadline)
            {
                break;
            }

            await Task.Delay(PollEvery, time, ct);
        }

        if (stored is null)
        {
            return new(HealthState.Failing, "The webhook answered 200 but stored nothing.", steps, started);
        }

        steps.Add($"Stored as delivery {stored.Id}: {stored.Result}{(stored.IsTest ? ", marked as a test" : ", NOT marked as a test")}");
        if (stored.ProcessingState is "Pending")
        {
            return new(HealthState.Failing, $"The processor did not take the delivery within {options.Value.SelfTestTimeout.TotalSeconds:0} s.", steps, started);
        }

        steps.Add($"Processor: {stored.ProcessingState} — {stored.ProcessDetail}");
        var passed = stored is { Result: DeliveryResults.Accepted, IsTest: true, ProcessingState: ProcessingStates.Ignored };
        return new(
            passed ? HealthState.Healthy : HealthState.Failing,
            passed ? "Webhook path works end to end: validated, stored, marked as a test, not applied." : "The test delivery was not handled as a test.",
            steps,
            started);
    }

    private async Task<StoredDelivery?> FindAsync(Guid operationId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<StoredDelivery>(new CommandDefinition("""
            SELECT id, result, is_test, processing_state, process_detail
            FROM webhook_deliveries WHERE operation_id = @operationId ORDER BY id LIMIT 1
            """, new { operationId }, cancellationToken: ct));
    }

    private sealed record StoredDelivery
    {
        public long Id { get; init; }
        public string Result { get; init; } = "";
        public bool IsTest { get; init; }
        public string? ProcessingState { get; init; }
        public string? ProcessDetail { get; init; }
    }
}
