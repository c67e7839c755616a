using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace PublisherPortal.BrowserTests;

/// <summary>
/// One run of the built portal (PublisherPortal.dll from this test's output) as its own process on a loopback port,
/// exactly as a person starts it. <see cref="PortalFixture"/> runs one in demo mode; the scale-out tests run several
/// against one database and kill and restart them.
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private event Action<string>? LineWritten;

    private PortalProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote so far, for failure messages.</summary>
    public string Log => string.Join('\n', _log);

    /// <summary>
    /// Starts the portal with <paramref name="contentRoot"/> and the given configuration (`--Key=value` arguments and
    /// environment variables) and returns once Kestrel listens. <paramref name="port"/> 0 picks a free one; pass the
    /// previous port to restart an instance where a load balancer expects it.
    /// </summary>
    public static async Task<PortalProcess> StartAsync(
        string contentRoot, int port = 0, IEnumerable<string>? arguments = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory.CreateDirectory(contentRoot);
        port = port == 0 ? FreeLoopbackPort() : port;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "PublisherPortal.dll"), "--contentRoot", contentRoot, "--urls", $"http://127.0.0.1:{port}" }
                     .Concat(arguments ?? []))
        {
            start.ArgumentList.Add(arg);
        }

        // Development serves MudBlazor's files from the build output (static web assets manifest), as `dotnet run` does.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var portal = new PortalProcess(new Process { StartInfo = start, EnableRaisingEvents = true }, new Uri($"http://127.0.0.1:{port}/"));
        portal._process.OutputDataReceived += (_, e) => portal.Append(e.Data);
        portal._process.ErrorDataReceived += (_, e) => portal.Append(e.Data);
        portal._process.Start();
        portal._process.BeginOutputReadLine();
        portal._process.BeginErrorReadLine();
        await portal.WaitForLineAsync(new Regex("Now listening on:"));
        return portal;
    }

    /// <summary>Waits for a line of the portal's output that matches; fails with the log when the process ends or time runs out.</summary>
    public async Task<Match> WaitForLineAsync(Regex pattern)
    {
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check(string line)
        {
            if (pattern.Match(line) is { Success: true } m)
            {
                found.TrySetResult(m);
            }
        }

        LineWritten += Check;
        try
        {
            foreach (var line in _log)
            {
                Check(line);
            }

            var exited = _process.WaitForExitAsync();
            var first = await Task.WhenAny(found.Task, exited, Task.Delay(StartTimeout));
            return first == found.Task
                ? await found.Task
                : throw new InvalidOperationException(
                    (first == exited ? "The portal exited" : "The portal timed out") + $" before writing /{pattern}/:\n{Log}");
        }
        finally
        {
            LineWritten -= Check;
        }
    }

    /// <summary>
    /// The standalone emulator (Marketplace.Emulator.dll, as `dotnet run --project src/Marketplace.Emulator` runs it) on
    /// free ports, returned once it says where it listens.
    /// </summary>
    public static async Task<PortalProcess> StartStandaloneEmulatorAsync(string dataDirectory)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Marketplace.Emulator.dll"), "--HttpsPort", "0", "--HttpPort", "0", "--DataDirectory", dataDirectory })
        {
            start.ArgumentList.Add(arg);
        }

        var emulator = new PortalProcess(new Process { StartInfo = start, EnableRaisingEvents = true }, new Uri("http://127.0.0.1/"));
        emulator._process.OutputDataReceived += (_, e) => emulator.Append(e.Data);
        emulator._process.ErrorDataReceived += (_, e) => emulator.Append(e.Data);
        emulator._process.Start();
        emulator._process.BeginOutputReadLine();
        emulator._process.BeginErrorReadLine();
        await emulator.WaitForLineAsync(new Regex("Marketplace emulator on "));
        return emulator;
    }

    /// <summary>
    /// Sends <paramref name="signal"/> (SIGTERM as an orchestrator stops a container, SIGINT as Ctrl+C) and returns how
    /// long the process took to exit, or null when it was still running after <paramref name="patience"/> (then killed).
    /// </summary>
    public async Task<TimeSpan?> SignalAndWaitForExitAsync(PosixSignal signal, TimeSpan patience)
    {
        var number = signal switch
        {
            PosixSignal.SIGTERM => 15,
            PosixSignal.SIGINT => 2,
            _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "SIGTERM or SIGINT"),
        };
        var clock = Stopwatch.StartNew();
        if (SendSignal(_process.Id, number) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {number}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        using var timeout = new CancellationTokenSource(patience);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return clock.Elapsed;
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            return null;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>Ends the process at once, as a crash or a pulled plug would: no graceful shutdown, leases left behind.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        LineWritten?.Invoke(line);
    }
}
