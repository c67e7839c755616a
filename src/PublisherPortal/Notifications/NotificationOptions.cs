using System.ComponentModel.DataAnnotations;
using MailKit.Security;

namespace PublisherPortal.Notifications;

/// <summary>Who gets operator mails, where links in mails point, and how the sender behaves. Bound from "Notifications".</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>Where operator mails go (new purchase, approval needed, refused change, failed acknowledgement). Empty: none are queued.</summary>
    public List<string> OperatorAddresses { get; set; } = [];

    /// <summary>The portal's public address for links in mails. Empty: the address the server listens on (fine for demo mode).</summary>
    public Uri? PortalUrl { get; set; }

    /// <summary>Turn the sender off on an instance that should not send (or in tests that simulate a crash before sending).</summary>
    public bool RunSender { get; set; } = true;

    /// <summary>Fallback wake-up of the sender when no signal came (another instance queued the mail, or a retry is due).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a claimed mail stays with one instance. It must outlast one SMTP conversation (<see cref="SmtpOptions.Timeout"/>
    /// for connect and each command): a mail still being sent when its lease ran out would be sent again by the instance that takes it over.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(3);

    [Range(1, 500)]
    public int BatchSize { get; set; } = 20;

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>After this many failed attempts a mail is marked Failed and shown to operators on /console/notifications.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;
}

/// <summary>The SMTP relay. The password is read here and given to MailKit; it is never logged nor shown (pages say "configured").</summary>
public sealed class SmtpOptions
{
    /// <summary>Empty: mails wait in the outbox and the pages say SMTP is not configured (demo mode fills this in).</summary>
    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    /// <summary>Auto (STARTTLS when offered), None, StartTls (required) or SslOnConnect (port 465).</summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.StartTls;

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender, e.g. "Contoso Portal &lt;portal@contoso.example&gt;". Its domain also names our Message-IDs.</summary>
    public string From { get; set; } = "Publisher Portal <portal@publisher.example>";

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);

    public bool HasPassword => !string.IsNullOrEmpty(Password);
}
