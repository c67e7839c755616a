using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Marketplace.Emulator;

/// <summary>
/// `dotnet run --project src/Marketplace.Emulator`: the emulator on fixed ports (https 7443, http 7080) for demos.
/// A class with Main, not top-level statements: the portal references this project and would otherwise see two
/// global Program types. Options come from the command line (--HttpsPort 7443 --WebhookUrl …) or environment
/// variables prefixed MARKETPLACE_EMULATOR_ (MARKETPLACE_EMULATOR_WebhookUrl=…).
/// </summary>
public static partial class Program
{
    public static async Task<int> Main(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables("MARKETPLACE_EMULATOR_")
            .AddCommandLine(args)
            .Build();
        var options = new EmulatorOptions
        {
            HttpsPort = 7443,
            HttpPort = 7080,
            // Outside the repository so a demo never commits its keys, yet stable so restarts keep trust and state.
            DataDirectory = Path.Combine(Path.GetTempPath(), "marketplace-emulator"),
        };
        configuration.Bind(options);

        using var logs = LoggerFactory.Create(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        var log = logs.CreateLogger("Marketplace.Emulator");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        await using var emulator = await EmulatorHost.StartAsync(options, TimeProvider.System, logs, stop.Token);
        LogStarted(log, emulator.HttpsBaseUri, emulator.HttpBaseUri, options.DataDirectory ?? "(memory only)", emulator.TlsCertificate.Thumbprint);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: fall through to a clean shutdown.
        }

        return 0;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Marketplace emulator on {Https} and {Http} (controls at /emulator); data in {DataDirectory}; TLS certificate {Thumbprint}")]
    private static partial void LogStarted(ILogger log, Uri https, Uri http, string dataDirectory, string thumbprint);
}
