using System.Buffers;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace PublisherPortal.Notifications.Demo;

/// <summary>
/// Demo mode's mail server: an SMTP server (the SmtpServer package) on a loopback port, in this process, that keeps
/// every mail in the demo mailbox. The portal's sender talks real SMTP to it through MailKit, exactly as it would to a
/// relay, so the demo exercises the real code path. Loopback only: nothing outside this machine can send to it.
/// </summary>
public sealed partial class DemoMailServer(DemoMailboxStore mailbox, DemoMailPort port, TimeProvider time, ILogger<DemoMailServer> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, port.Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        // The store is its own object, not this service: SmtpServer disposes what it resolves after a message, and
        // disposing a BackgroundService cancels it, which stopped the listener after the first mail.
        services.Add(new MailboxReceiver(mailbox, time, logger));
        var server = new SmtpServer.SmtpServer(options, services);
        server.SessionFaulted += (_, e) => Log.SessionFaulted(logger, e.Exception);
        Log.Listening(logger, port.Port);
        try
        {
            await server.StartAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping with the portal.
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            Log.StoppedEarly(logger);
        }
    }

    /// <summary>Keeps each message the server accepts in the demo mailbox.</summary>
    private sealed class MailboxReceiver(DemoMailboxStore mailbox, TimeProvider time, ILogger logger) : IMessageStore
    {
        public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            var kept = await mailbox.KeepAsync(new ReceivedMail
            {
                ReceivedAt = time.GetUtcNow(),
                MessageId = message.MessageId ?? $"{Guid.NewGuid():N}@demo-mailbox.local",
                MailFrom = message.From.ToString(),
                Recipients = string.Join(", ", transaction.To.Select(m => $"{m.User}@{m.Host}")),
                Subject = message.Subject ?? "",
                Body = message.TextBody ?? message.HtmlBody ?? "",
            }, cancellationToken);
            if (!kept)
            {
                Log.DuplicateDropped(logger);
            }

            return new SmtpResponse(SmtpReplyCode.Ok, "kept in the demo mailbox");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Demo mail server listening on 127.0.0.1:{Port}; received mails are on /mailbox")]
        public static partial void Listening(ILogger logger, int port);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Demo mail server: a session failed")]
        public static partial void SessionFaulted(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Error, Message = "Demo mail server stopped listening before the portal stopped")]
        public static partial void StoppedEarly(ILogger logger);

        [LoggerMessage(Level = LogLevel.Information, Message = "Demo mailbox dropped a mail whose Message-ID it already has (a resend after a crash)")]
        public static partial void DuplicateDropped(ILogger logger);
    }
}

/// <summary>The loopback port the demo mail server listens on, chosen at start-up so the sender's settings can name it.</summary>
public sealed record DemoMailPort(int Port)
{
    /// <summary>A port free right now: asks the OS for one and gives it back. Another process could take it in between; on a demo machine that is a restart away from fixed.</summary>
    public static DemoMailPort PickFree()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new DemoMailPort(port);
    }
}

public static class DemoMailboxExtensions
{
    /// <summary>
    /// Demo mode: an SMTP server in this process receives every mail (see <see cref="DemoMailServer"/>), and the
    /// notification settings point at it, with Olivia and Ada (the demo's operator and admin) as the operator list.
    /// </summary>
    public static IHostApplicationBuilder AddDemoMailbox(this IHostApplicationBuilder builder)
    {
        var port = DemoMailPort.PickFree();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Notifications:Smtp:Host"] = IPAddress.Loopback.ToString(),
            ["Notifications:Smtp:Port"] = port.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Notifications:Smtp:Security"] = nameof(MailKit.Security.SecureSocketOptions.None),
            ["Notifications:Smtp:From"] = "Contoso Publisher Portal <portal@publisher.example>",
            ["Notifications:OperatorAddresses:0"] = "olivia@publisher.example",
            ["Notifications:OperatorAddresses:1"] = "ada@publisher.example",
            ["Notifications:PollInterval"] = "00:00:01",
            ["Notifications:RetryBaseDelay"] = "00:00:02",
        });
        builder.Services.AddSingleton(port);
        builder.Services.TryAddSingleton<DemoMailboxStore>();
        builder.Services.AddHostedService<DemoMailServer>();
        return builder;
    }
}
