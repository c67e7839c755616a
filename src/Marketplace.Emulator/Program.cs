using System.Runtime.InteropServices;
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

        // SIGTERM (docker stop, systemd, Kubernetes) and SIGINT (Ctrl+C) both end the wait below, so the emulator shuts
        // down cleanly at once; the embedded host does not listen to signals itself (EmulatorHost), its owner decides.
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onQuit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop);

        await using var emulator = await EmulatorHost.StartAsync(options, TimeProvider.System, logs, stop.Token);
        LogStarted(log, emulator.HttpsBaseUri, emulator.HttpBaseUri, options.DataDirectory ?? "(memory only)", emulator.TlsCertificate.Thumbprint);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // A stop signal: fall through to a clean shutdown.
        }

        return 0;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Marketplace emulator on {Https} and {Http} (controls at /emulator); data in {DataDirectory}; TLS certificate {Thumbprint}")]
    private static partial void LogStarted(ILogger log, Uri https, Uri http, string dataDirectory, string thumbprint);
}
