using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Marketplace.Emulator;

namespace PublisherPortal.Tests.Observability;

/// <summary>
/// The built portal run as a person runs it (its own process, Production environment, the shipped appsettings.json,
/// demo mode): start-up, the demo seeder's purchases, landing resolves, activations and webhooks, then a landing visit
/// with a fresh purchase token and a webhook with a forged bearer token. Its whole console output is then searched for
/// anything secret, and for the noise an operator would switch off.
/// </summary>
public sealed partial class DemoRunLogTests
{
    [Fact]
    public async Task A_demo_run_logs_no_secret_or_token_no_per_request_noise_and_every_delivery_line_names_its_subscription()
    {
        var contentRoot = Directory.CreateTempSubdirectory("portal-logs-").FullName;
        File.Copy(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), Path.Combine(contentRoot, "appsettings.json"));
        var port = FreeLoopbackPort();
        var lines = new ConcurrentQueue<string>();
        using var process = Start(contentRoot, port, lines);
        try
        {
            await WaitForAsync(lines, process, DemoSeeded());
            await WaitForAsync(lines, process, AcknowledgementDone());
            var emulatorHttp = new Uri(EmulatorAddress().Match(string.Join('\n', lines)).Groups["http"].Value);

            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            var purchase = await (await http.PostAsJsonAsync(new Uri(emulatorHttp, "emulator/purchases"), new { planId = "team", quantity = 3 }))
                .Content.ReadFromJsonAsync<JsonElement>();
            var purchaseToken = purchase.GetProperty("token").GetString()!;
            var landing = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/landing?token={Uri.EscapeDataString(purchaseToken)}"));
            Assert.True(landing.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.OK, $"landing answered {landing.StatusCode}");

            const string ForgedJwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJmb3JnZWQifQ.c2lnbmF0dXJl";
            using var forged = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/api/webhook")
            {
                Content = new StringContent("""{"id":"00000000-0000-0000-0000-000000000001","subscriptionId":"00000000-0000-0000-0000-000000000002","action":"ChangePlan"}""",
                    System.Text.Encoding.UTF8, "application/json"),
            };
            forged.Headers.TryAddWithoutValidation("Authorization", "Bearer " + ForgedJwt);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(forged)).StatusCode);
            await WaitForAsync(lines, process, new Regex("refused \\(401\\)"));

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            var log = string.Join('\n', lines);

            // Nothing secret: the client secret, any bearer token, any JWT, any purchase token (ours, or the seeder's by shape).
            Assert.DoesNotContain(new EmulatorOptions().PortalClientSecret, log, StringComparison.Ordinal);
            Assert.DoesNotContain(purchaseToken, log, StringComparison.Ordinal);
            Assert.DoesNotContain(Uri.EscapeDataString(purchaseToken), log, StringComparison.Ordinal);
            Assert.DoesNotMatch(Bearer(), log);
            Assert.DoesNotMatch(Jwt(), log);
            Assert.DoesNotMatch(PurchaseTokenShape(), log);

            // Quiet: no HTTP client chatter, no retry-pipeline chatter, no IdentityModel warning on a valid token.
            Assert.DoesNotMatch(new Regex("^info: (System\\.Net\\.Http\\.HttpClient|Polly)", RegexOptions.Multiline), log);
            // The forged token's refusal is written once, by the inbox, with IdentityModel's reason in it.
            Assert.DoesNotMatch(new Regex("^(warn|fail): Microsoft\\.IdentityModel", RegexOptions.Multiline), log);
            Assert.Single(Regex.Matches(log, "refused \\(401\\)"));

            // Every line the webhook pipeline writes about a delivery carries the subscription's id in its scope.
            var entries = Entries(log);
            var deliveryEntries = entries.Where(e => e.Category is "PublisherPortal.Webhooks.WebhookProcessor" or "PublisherPortal.Webhooks.AcknowledgementSender"
                && !e.Text.Contains("round failed", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(deliveryEntries);
            Assert.All(deliveryEntries, e => Assert.Matches(new Regex("SubscriptionId: [0-9a-f]{8}-"), e.Text));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            try
            {
                Directory.Delete(contentRoot, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open by the ending process: the temp folder is cleaned by the system.
            }
        }
    }

    private static Process Start(string contentRoot, int port, ConcurrentQueue<string> lines)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "PublisherPortal.dll"), "--contentRoot", contentRoot,
                     "--urls", $"http://127.0.0.1:{port}", "--Portal:EmulatorHttpsPort=0", "--Portal:EmulatorHttpPort=0",
                     // Outside Development the demo runs only when asked for by name (see README, "Demo or real").
                     "--Portal:Mode=Demo" })
        {
            start.ArgumentList.Add(arg);
        }

        // Production, as shipped (the demo asked for explicitly): whatever the test runner's environment says about logging does not apply.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForAsync(ConcurrentQueue<string> lines, Process process, Regex pattern)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(120);
        while (!lines.Any(pattern.IsMatch))
        {
            if (process.HasExited || DateTimeOffset.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"The portal {(process.HasExited ? "exited" : "timed out")} before writing /{pattern}/:\n{string.Join('\n', lines)}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The console's entries: a "level: category[id]" line and the indented lines (scopes, message) under it.</summary>
    private static List<(string Category, string Text)> Entries(string log)
    {
        var entries = new List<(string, string)>();
        foreach (Match m in Entry().Matches(log))
        {
            entries.Add((m.Groups["category"].Value, m.Value));
        }

        return entries;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("Demo data seeded")]
    private static partial Regex DemoSeeded();

    [GeneratedRegex("Acknowledgement (Success|Failure) for operation [0-9a-f-]+ done")]
    private static partial Regex AcknowledgementDone();

    [GeneratedRegex("Demo emulator listening: https (?<https>\\S+) and http (?<http>\\S+) ")]
    private static partial Regex EmulatorAddress();

    [GeneratedRegex("bearer\\s+[A-Za-z0-9._~+/=-]{16,}", RegexOptions.IgnoreCase)]
    private static partial Regex Bearer();

    [GeneratedRegex("eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}")]
    private static partial Regex Jwt();

    /// <summary>The emulator's purchase tokens: 48 random bytes in base64 and a trailing '=', like the real ones' alphabet.</summary>
    [GeneratedRegex("[A-Za-z0-9+/]{64}=")]
    private static partial Regex PurchaseTokenShape();

    [GeneratedRegex("^(info|warn|fail|crit|dbug|trce): (?<category>[^\\[\\s]+)\\[\\d+\\](\\n {6}.*)*", RegexOptions.Multiline)]
    private static partial Regex Entry();
}
