using System.Diagnostics;
using System.Globalization;
using CsCheck;
using Xunit.Abstractions;

namespace PublisherPortal.Tests.Model;

/// <summary>
/// The model-based test of issue 15: generated sequences of purchases, activations, plan and seat changes from the
/// customer, an operator and the marketplace, suspensions, reinstatements, renewals, cancellations, repeated and late
/// webhook deliveries, marketplace faults and portal restarts, run against the emulator and the real portal services.
/// After each sequence the portal must bill what the marketplace bills (see <see cref="ModelRunner"/>).
///
/// The run is reproducible: sequence i is generated from PCG stream i of PORTAL_MODEL_SEED (default below), and
/// PORTAL_MODEL_COUNT sequences run (default 200). On a failure, CsCheck shrinks the failing sequence to a minimal one
/// and the message prints it with the seed that replays it alone (PORTAL_MODEL_REPLAY). README.md, "Model-based test".
/// </summary>
public sealed class BillingModelTests(ITestOutputHelper output)
{
    public const ulong DefaultSeed = 20261207;
    public const int DefaultCount = 200;

    [Fact]
    public async Task Every_sequence_leaves_the_portal_billing_exactly_what_the_marketplace_bills()
    {
        var seed = ulong.TryParse(Environment.GetEnvironmentVariable("PORTAL_MODEL_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        var count = int.TryParse(Environment.GetEnvironmentVariable("PORTAL_MODEL_COUNT"), NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : DefaultCount;
        var replay = Environment.GetEnvironmentVariable("PORTAL_MODEL_REPLAY");

        await using var world = await ModelWorld.StartAsync();
        var runner = new ModelRunner(world);
        var clock = Stopwatch.StartNew();
        (string Seed, Step[] Steps, SequenceLog Log)? failed = null;
        var ran = 0;
        IEnumerable<string> seeds = replay is { Length: > 0 }
            ? [replay]
            : Enumerable.Range(0, count).Select(i => new PCG((uint)i, seed).ToString());
        foreach (var sequenceSeed in seeds)
        {
            var steps = ModelGen.Sequence.Generate(PCG.Parse(sequenceSeed), null, out _);
            var log = await runner.RunAsync(steps);
            ran++;
            if (Environment.GetEnvironmentVariable("PORTAL_MODEL_VERBOSE") == "1")
            {
                output.WriteLine($"{sequenceSeed}:{Environment.NewLine}{log}");
            }

            if (log.Violations.Count > 0)
            {
                failed = (sequenceSeed, steps, log);
                break;
            }
        }

        output.WriteLine($"{ran} sequences, seed {seed}{(replay is null ? "" : $", replaying {replay}")}, {clock.Elapsed.TotalSeconds:0.0} s on {TimeProvider.System.GetUtcNow():u}");
        if (failed is not { } failure)
        {
            return;
        }

        output.WriteLine($"Sequence {failure.Seed} failed:{Environment.NewLine}{ModelGen.Print(failure.Steps)}{Environment.NewLine}{failure.Log}");
        throw new Xunit.Sdk.XunitException(await ShrinkAsync(runner, failure.Seed, failure.Steps, failure.Log));
    }

    /// <summary>
    /// Shrinks in two ways: CsCheck starts from the failing seed and looks for smaller generated sequences that still
    /// fail (PORTAL_MODEL_SHRINK tries; its message names the seed of the smallest); then steps are taken out one at a
    /// time for as long as the sequence still fails, which leaves a minimal sequence: without any one of its steps it passes.
    /// </summary>
    private static async Task<string> ShrinkAsync(ModelRunner runner, string seed, Step[] steps, SequenceLog log)
    {
        var budget = int.TryParse(Environment.GetEnvironmentVariable("PORTAL_MODEL_SHRINK"), out var b) ? b : 20;
        var csCheck = "";
        try
        {
            await ModelGen.Sequence.SampleAsync(async candidate =>
            {
                var attempt = await runner.RunAsync(candidate);
                if (attempt.Violations.Count > 0)
                {
                    throw new InvalidOperationException(string.Join("; ", attempt.Violations));
                }
            }, seed: seed, iter: budget, threads: 1, print: ModelGen.Print);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            csCheck = e.Message;
        }

        var minimal = steps.ToList();
        var minimalLog = log;
        for (var i = minimal.Count - 1; i >= 0; i--)
        {
            var without = minimal.Where((_, j) => j != i).ToArray();
            var attempt = await runner.RunAsync(without);
            if (attempt.Violations.Count > 0)
            {
                minimal = [.. without];
                minimalLog = attempt;
            }
        }

        return $"""
            The generator found a sequence after which the portal does not bill what the marketplace bills.
            Seed {seed} (replay it alone with PORTAL_MODEL_REPLAY={seed}); its {steps.Length} steps:
            {ModelGen.Print(steps)}

            Minimal sequence ({minimal.Count} steps; without any one of them it passes):
            {ModelGen.Print([.. minimal])}
            What happened:
            {minimalLog}
            What broke:
              {string.Join(Environment.NewLine + "  ", minimalLog.Violations)}

            CsCheck's shrinking from the seed: {(csCheck.Length == 0 ? "no failing sequence within its tries" : csCheck)}
            """;
    }
}
