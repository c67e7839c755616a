using System.Net;
using System.Net.Sockets;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console;
using PublisherPortal.Console.Subscriptions;
using PublisherPortal.Data;

namespace PublisherPortal.Tests.Console;

/// <summary>
/// The subscriptions grid while the database has not answered yet, and when it cannot answer: never a blank screen.
/// The "database" is a PostgreSQL address where a socket accepts and stays silent, so the query is truly in flight
/// (SQLite's driver blocks the caller instead) until the test hangs up on it.
/// </summary>
public sealed class SubscriptionsPageStatesTests : ConsoleTestContext
{
    [Fact]
    public async Task While_the_database_has_not_answered_the_grid_says_it_is_loading()
    {
        using var silent = new SilentServer();
        UseDatabaseAt(silent.Port);
        SignInAsFinance();

        var page = RenderPage<SubscriptionsPage>();
        await silent.AcceptedAsync();

        page.WaitForAssertion(() => Assert.Contains("Loading subscriptions…", page.Markup, StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[data-testid=error]"));
    }

    [Fact]
    public async Task When_the_query_fails_the_page_says_what_to_do_instead_of_going_blank()
    {
        var silent = new SilentServer();
        UseDatabaseAt(silent.Port);
        SignInAsFinance();
        var page = RenderPage<SubscriptionsPage>();
        await silent.AcceptedAsync();

        silent.Dispose(); // the database hangs up mid-handshake

        page.WaitForAssertion(() =>
        {
            var alert = page.Find("[data-testid=error]");
            Assert.Contains("mud-alert-text-error", alert.ClassName ?? "", StringComparison.Ordinal);
            Assert.Contains("Reload the page", alert.TextContent, StringComparison.Ordinal);
            Assert.Contains("check the portal's logs", alert.TextContent, StringComparison.Ordinal);
            Assert.DoesNotContain("Loading subscriptions…", page.Markup, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20));
    }

    /// <summary>The grid's query (and the page's counts) read from a database that is not there.</summary>
    private void UseDatabaseAt(int port) =>
        Services.AddSingleton(new ConsoleSubscriptionQuery(new PortalDatabase(
            DatabaseProvider.Postgres, $"Host=127.0.0.1;Port={port};Username=portal;Password=unused;Database=portal;Timeout=30;Pooling=false")));

    /// <summary>Accepts connections on loopback and never says a word; disposing it closes every socket.</summary>
    private sealed class SilentServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Socket> _accepted = [];
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stop = new();

        public SilentServer()
        {
            _listener.Start();
            _ = AcceptLoopAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public Task AcceptedAsync() => _first.Task.WaitAsync(TimeSpan.FromSeconds(10));

        private async Task AcceptLoopAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    lock (_accepted)
                    {
                        _accepted.Add(socket);
                    }

                    _first.TrySetResult();
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_accepted)
            {
                foreach (var socket in _accepted)
                {
                    socket.Close();
                }
            }

            _stop.Dispose();
        }
    }
}
