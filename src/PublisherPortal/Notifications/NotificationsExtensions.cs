using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Notifications;

public static class NotificationsExtensions
{
    /// <summary>
    /// E-mail notifications: the planner that queues mails with every history event (SubscriptionStore finds it as its
    /// <see cref="ISubscriptionEventFollower"/>), the outbox, the SMTP sender worker, and the Admin's templates and switches.
    /// SMTP, operator addresses and worker settings come from the "Notifications" section (demo mode fills it in).
    /// </summary>
    public static IHostApplicationBuilder AddNotifications(this IHostApplicationBuilder builder)
    {
        builder.Services.AddNotificationServices(builder.Configuration.GetSection(NotificationOptions.Section));
        return builder;
    }

    /// <summary>Everything <see cref="AddNotifications"/> registers, for hosts built without the portal's Program (tests).</summary>
    public static IServiceCollection AddNotificationServices(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<NotificationOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart()
            .Validate(o => !o.Smtp.IsConfigured || MimeKit.MailboxAddress.TryParse(o.Smtp.From, out _),
                "Notifications:Smtp:From must be an e-mail address, e.g. \"Portal <portal@contoso.example>\".");
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton<WorkerIdentity>();
        services.TryAddSingleton<OutboxSignal>();
        services.TryAddSingleton<MailOutbox>();
        services.TryAddSingleton<NotificationSettingsStore>();
        services.TryAddSingleton<PortalAddress>();
        services.TryAddSingleton<NotificationPlanner>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISubscriptionEventFollower, NotificationPlanner>(sp => sp.GetRequiredService<NotificationPlanner>()));
        services.TryAddSingleton<TemplatePreview>();
        services.TryAddSingleton<Demo.DemoMailboxStore>();   // read by /mailbox; filled only in demo mode
        services.TryAddScoped<NotificationActions>();

        // A singleton, so the console's "send again" reaches the running worker's signal.
        services.TryAddSingleton<NotificationSender>();
        services.AddHostedService(sp => sp.GetRequiredService<NotificationSender>());
        return services;
    }
}
