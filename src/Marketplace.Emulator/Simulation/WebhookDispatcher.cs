using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using Marketplace.Emulator.Identity;
using Marketplace.Models;
using Microsoft.Extensions.Logging;

namespace Marketplace.Emulator;

/// <summary>
/// Delivers webhooks the way Microsoft's side does (docs/marketplace.md#webhooks): POST with a signed bearer token, retried with backoff
/// when the publisher does not accept, every attempt recorded. For ChangePlan/ChangeQuantity a 4xx answer is the
/// publisher's refusal, not a failure to retry.
/// </summary>
internal sealed partial class WebhookDispatcher : IAsyncDisposable
{
    private readonly SubscriptionBook _book;
    private readonly EmulatorTokens _tokens;
    private readonly EmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _running = [];
    private int _nextTarget = -1;

    public WebhookDispatcher(SubscriptionBook book, EmulatorTokens tokens, EmulatorOptions options, TimeProvider time, ILogger log)
    {
        _book = book;
        _tokens = tokens;
        _options = options;
        _time = time;
        _log = log;
        _http = new HttpClient(new SocketsHttpHandler
        {
            // The publisher's endpoint in a demo is a loopback portal with a development certificate: trust loopback only.
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (sender, _, _, errors) =>
                    errors == SslPolicyErrors.None || (sender is HttpRequestMessage { RequestUri: { } uri } && uri.IsLoopback),
            },
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public void Enqueue(MarketplaceOperation delivery)
    {
        var task = Task.Run(() => DeliverWithRetriesAsync(delivery, _stopping.Token));
        lock (_gate)
        {
            _running.Add(task);
        }

        task.ContinueWith(t =>
        {
            lock (_gate)
            {
                _running.Remove(t);
            }
        }, TaskScheduler.Default);
    }

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>One attempt, recorded like any other, answered to the caller.</summary>
    public async Task<WebhookAttempt> SendOnceAsync(MarketplaceOperation delivery, CancellationToken ct)
    {
        var (statusCode, error) = await SendAsync(delivery, ct);
        var attempt = new WebhookAttempt(delivery.Id, 1, _time.GetUtcNow(), statusCode, error);
        _book.RecordAttempt(attempt);
        LogAttempt(_log, delivery.Action, delivery.Id, 1, statusCode, error);
        return attempt;
    }

    public async Task WhenIdleAsync(CancellationToken ct)
    {
        while (true)
        {
            Task[] running;
            lock (_gate)
            {
                running = [.. _running];
            }

            if (running.Length == 0)
            {
                return;
            }

            await Task.WhenAll(running).WaitAsync(ct);
        }
    }

    private async Task DeliverWithRetriesAsync(MarketplaceOperation delivery, CancellationToken ct)
    {
        var retry = _options.WebhookRetry;
        var refusable = delivery.KnownAction is OperationAction.ChangePlan or OperationAction.ChangeQuantity;
        for (var attempt = 1; attempt <= Math.Max(1, retry.MaxAttempts); attempt++)
        {
            if (attempt > 1)
            {
                var backoff = TimeSpan.FromTicks(Math.Min(retry.MaxDelay.Ticks, retry.BaseDelay.Ticks * (1L << Math.Min(attempt - 2, 20))));
                try
                {
                    await Task.Delay(backoff, _time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            var (statusCode, error) = await SendAsync(delivery, ct);
            if (ct.IsCancellationRequested)
            {
                return;
            }

            _book.RecordAttempt(new WebhookAttempt(delivery.Id, attempt, _time.GetUtcNow(), statusCode, error));
            LogAttempt(_log, delivery.Action, delivery.Id, attempt, statusCode, error);
            if (statusCode is >= 200 and < 300)
            {
                return;
            }

            if (refusable && statusCode is >= 400 and < 500)
            {
                _book.RefuseByDeliveryAnswer(delivery.Id, statusCode.Value);
                return;
            }

            if (_options.WebhookUrl is null && _options.WebhookUrls.Count == 0)
            {
                // Nowhere to deliver: retrying cannot help, and a demo without a portal should stay quiet.
                return;
            }
        }

        LogGaveUp(_log, delivery.Action, delivery.Id);
        _book.GiveUpDelivery(delivery.Id);
    }

    private async Task<(int? StatusCode, string? Error)> SendAsync(MarketplaceOperation delivery, CancellationToken ct)
    {
        if (NextWebhookUrl() is not { } url)
        {
            return (null, "No webhook URL is configured.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.WebhookRetry.AttemptTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = JsonContent.Create(delivery, options: MarketplaceJson.Options),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _tokens.CreateWebhookToken());
            request.Headers.Add("x-ms-requestid", Guid.NewGuid().ToString());
            using var response = await _http.SendAsync(request, timeout.Token);
            return ((int)response.StatusCode, null);
        }
        catch (HttpRequestException ex)
        {
            return (null, ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : ex.HttpRequestError.ToString());
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, "Timed out.");
        }
    }

    /// <summary>Round robin over every configured portal instance; read at each attempt, as the options may change.</summary>
    private Uri? NextWebhookUrl()
    {
        Uri[] targets = [.. _options.WebhookUrl is { } first ? [first] : Array.Empty<Uri>(), .. _options.WebhookUrls];
        return targets.Length == 0 ? null : targets[(int)((uint)Interlocked.Increment(ref _nextTarget) % (uint)targets.Length)];
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await WhenIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            // Deliveries that ignore cancellation are abandoned with the process.
        }

        _http.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Action} {OperationId} attempt {Attempt}: {StatusCode} {Error}")]
    private static partial void LogAttempt(ILogger log, string action, Guid operationId, int attempt, int? statusCode, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Action} {OperationId} was not accepted after every retry; the operation fails")]
    private static partial void LogGaveUp(ILogger log, string action, Guid operationId);
}
