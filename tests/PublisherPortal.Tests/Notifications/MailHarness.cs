using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Notifications;
using PublisherPortal.Tests.Support;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Tests.Notifications;

/// <summary>
/// The notification services over a real migrated database, wired by hand as AddNotificationServices wires them, and a
/// SubscriptionStore that follows its events with the planner — the same hook the portal uses.
/// </summary>
internal sealed class MailHarness
{
    public const string Olivia = "olivia@publisher.example";
    public const string Ada = "ada@publisher.example";

    public MailHarness(TestDatabase db, int smtpPort = 25, Action<NotificationOptions>? configure = null)
    {
        Db = db;
        var settings = new NotificationOptions
        {
            OperatorAddresses = [Olivia, Ada],
            PortalUrl = new Uri("https://portal.contoso.example/"),
            RetryBaseDelay = TimeSpan.FromSeconds(1),
            MaxRetryDelay = TimeSpan.FromSeconds(30),
            MaxAttempts = 3,
            LeaseDuration = TimeSpan.FromMinutes(1),
            Smtp = new SmtpOptions
            {
                Host = "127.0.0.1",
                Port = smtpPort,
                Security = MailKit.Security.SecureSocketOptions.None,
                From = "Contoso Portal <portal@publisher.example>",
                Timeout = TimeSpan.FromSeconds(10),
            },
        };
        configure?.Invoke(settings);
        Options = Microsoft.Extensions.Options.Options.Create(settings);
        Outbox = new MailOutbox(db.Database);
        Audit = new AuditLog(db.Database, db.Time);
        Settings = new NotificationSettingsStore(db.Database, Audit, db.Time);
        Address = new PortalAddress(Options, new ServiceCollection().BuildServiceProvider());
        Planner = new NotificationPlanner(Outbox, Settings, Address, Signal, Options, db.Time, NullLogger<NotificationPlanner>.Instance);
        Subscriptions = new SubscriptionStore(db.Database, db.Time, Planner);
    }

    public TestDatabase Db { get; }
    public IOptions<NotificationOptions> Options { get; }
    public MailOutbox Outbox { get; }
    public AuditLog Audit { get; }
    public NotificationSettingsStore Settings { get; }
    public PortalAddress Address { get; }
    public OutboxSignal Signal { get; } = new();
    public NotificationPlanner Planner { get; }
    public SubscriptionStore Subscriptions { get; }

    /// <summary>A sender as one running instance would have it: its own worker identity (its own leases).</summary>
    public NotificationSender NewSenderInstance() =>
        new(Outbox, Signal, new WorkerIdentity(), Options, Db.Time, NullLogger<NotificationSender>.Instance);

    public TemplatePreview Preview() => new(Db.Database, Address, Options, Db.Time);

    /// <summary>Stores a purchase as the landing page does, without history (the tests add the events they mean).</summary>
    public async Task<Guid> BuyAsync(Marketplace.Models.MarketplaceSubscription subscription)
    {
        await using var connection = await Db.Database.OpenAsync();
        await using var tx = await Db.Database.BeginWriteAsync(connection);
        await Subscriptions.RecordFromMarketplaceAsync(subscription, connection, tx);
        await tx.CommitAsync();
        return subscription.Id;
    }

    public Task<ChangeResult> ChangeAsync(SubscriptionChange change) => Subscriptions.ApplyChangeAsync(change);

    /// <summary>A milestone event (Resolved, AwaitingApproval, ChangeRefused…) written the way the feature code writes it.</summary>
    public async Task AppendAsync(Guid subscriptionId, string kind, string? detail = null)
    {
        await using var connection = await Db.Database.OpenAsync();
        await using var tx = await Db.Database.BeginWriteAsync(connection);
        await Subscriptions.AppendEventAsync(new SubscriptionEvent
        {
            SubscriptionId = subscriptionId,
            OfferId = "insights-saas",
            OccurredAt = Db.Time.GetUtcNow(),
            Kind = kind,
            Source = EventSources.Operator,
            Detail = detail,
        }, connection, tx);
        await tx.CommitAsync();
    }
}
